import type { Cell, ReportAnswer, ReportColumn } from './reports-api';
import { cellText, isNumeric } from './reports-format';

const FLAG_TEXT: Record<string, string> = {
  low_conversion: 'low conversion',
  falling_views: 'falling views',
};

function Flags({ value }: { value: Cell }) {
  const flags = String(value ?? '')
    .split(',')
    .filter(Boolean);
  if (flags.length === 0) return <span className="muted">—</span>;
  return (
    <>
      {flags.map((f) => (
        <span key={f} className="pill warn" data-flag={f}>
          {FLAG_TEXT[f] ?? f}
        </span>
      ))}
    </>
  );
}

function CellView({ column, value }: { column: ReportColumn; value: Cell }) {
  if (column.name === 'flags') return <Flags value={value} />;
  return <>{cellText(value, column.type)}</>;
}

/** Flags are what the brand report is for: right after the brand, not past the table's right edge. */
export const ordered = (columns: ReportColumn[]) => {
  const flags = columns.find((c) => c.name === 'flags');
  if (!flags) return columns;
  const rest = columns.filter((c) => c !== flags);
  return [rest[0], flags, ...rest.slice(1)];
};

/** Every row of the answer with the API's columns; all values are rendered as text. */
export function ResultTable({ answer }: { answer: ReportAnswer }) {
  const { rows } = answer;
  const columns = ordered(answer.columns);
  const flagged = columns.some((c) => c.name === 'flags');
  return (
    <div className="table-scroll report-table-scroll">
      <table className="report-table" data-testid="report-table">
        <thead>
          <tr>
            {columns.map((c) => (
              <th
                key={c.name}
                scope="col"
                className={isNumeric(c.type) ? 'num' : undefined}
                title={c.description}
                data-col={c.name}
              >
                {c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr
              // Rows have no id of their own; the answer is replaced whole, never edited in place.
              // biome-ignore lint/suspicious/noArrayIndexKey: see above
              key={i}
              className={flagged && r.flags ? 'flagged' : undefined}
            >
              {columns.map((c) => (
                <td
                  key={c.name}
                  data-col={c.name}
                  className={isNumeric(c.type) ? 'num' : c.type === 'string' ? 'clip' : undefined}
                  title={c.type === 'string' && typeof r[c.name] === 'string' ? String(r[c.name]) : undefined}
                >
                  <CellView column={c} value={r[c.name] ?? null} />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
