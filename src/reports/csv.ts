import type { Cell, ReportAnswer } from './types.js';

/**
 * A report answer as CSV (RFC 4180: comma, CRLF, quotes doubled) that is safe to open in a
 * spreadsheet: a text cell starting with =, +, -, @, tab or carriage return would run as a
 * formula in Excel or Sheets (CSV injection), so it gets a leading apostrophe, as OWASP
 * advises. Numbers are written as numbers and are never prefixed.
 */
export function reportCsv(answer: Pick<ReportAnswer, 'columns' | 'rows'>): string {
  const lines = [answer.columns.map((c) => csvText(c.name)).join(',')];
  for (const row of answer.rows) lines.push(answer.columns.map((c) => csvCell(row[c.name])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

export function csvCell(v: Cell | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  return csvText(v);
}

function csvText(s: string): string {
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) || safe !== safe.trim() ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** storepulse-<site>-<report>-<from>-<to>.csv, with anything unusual in the site id replaced. */
export function reportFilename(site: string, answer: Pick<ReportAnswer, 'report' | 'params'>): string {
  const clean = (s: string) => s.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 60);
  const extra = answer.params.by ?? answer.params.grain ?? answer.params.dimension;
  return `storepulse-${clean(site)}-${answer.report}${extra ? `-${clean(extra)}` : ''}-${answer.params.from}-${answer.params.to}.csv`;
}
