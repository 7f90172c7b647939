import type { Cell, ColumnType } from './reports-api';

const int = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const dec2 = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const num = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
const pct = new Intl.NumberFormat(undefined, {
  style: 'percent',
  minimumFractionDigits: 1,
  maximumFractionDigits: 1,
});

/** A report cell as text: money with 2 decimals, ratios as percentages, null as a dash. */
export function cellText(v: Cell, type: ColumnType): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v === '' && type === 'string' ? '(empty)' : v;
  switch (type) {
    case 'money':
      return dec2.format(v);
    case 'ratio':
      return pct.format(v);
    case 'integer':
      return int.format(v);
    default:
      return num.format(v);
  }
}

export const isNumeric = (type: ColumnType) => type !== 'date' && type !== 'string';

/** A row's name in a chart: its key columns joined, with the words the reports use for missing values. */
export const rowLabel = (row: Record<string, Cell>, keys: string[]) =>
  keys
    .map((k) => (row[k] === null || row[k] === '' ? `(no ${k.replace('_id', '')})` : String(row[k])))
    .join(' · ');
