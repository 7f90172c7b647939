import type { Cell, ReportAnswer, ReportColumn } from './types.js';

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

/** A cell as a person reads it: money with 2 decimals, ratios as percentages. */
export function formatCell(v: Cell, type: ReportColumn['type']): string {
  if (v === null || v === undefined) return '–';
  if (typeof v !== 'number') return String(v);
  if (type === 'money')
    return v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  if (type === 'ratio') return `${(v * 100).toFixed(1)}%`;
  if (type === 'integer') return v.toLocaleString('en-US');
  return v.toLocaleString('en-US', { maximumFractionDigits: 3 });
}

export interface Summary {
  subject: string;
  text: string;
  html: string;
}

/**
 * The e-mail/webhook summary of one report run: its title, period, the stated rule if any and
 * the first rows as a table. Every value is escaped: brands and referrers come from visitors.
 */
export function renderSummary(
  answer: ReportAnswer,
  o: { title: string; from: string; to: string; maxRows?: number; link?: string },
): Summary {
  const max = o.maxRows ?? 20;
  const rows = answer.rows.slice(0, max) as Record<string, Cell>[];
  const period = `${o.from} to ${o.to} (UTC, end exclusive)`;
  const subject = `storepulse: ${o.title} for ${answer.site}, ${o.from} – ${o.to}`;
  const more = answer.rows.length > max ? `${answer.rows.length - max} more rows in the attached CSV.` : '';
  const cols = answer.columns;
  const textTable = [
    cols.map((c) => c.label).join(' | '),
    ...rows.map((r) => cols.map((c) => formatCell(r[c.name], c.type)).join(' | ')),
  ].join('\n');
  const text = [subject, period, answer.rule ?? '', '', textTable, more, o.link ?? '']
    .filter(Boolean)
    .join('\n');
  const th = cols.map(
    (c) =>
      `<th style="text-align:left;padding:4px 8px;border-bottom:1px solid #ccc">${escapeHtml(c.label)}</th>`,
  );
  const tr = rows.map(
    (r) =>
      `<tr>${cols
        .map((c) => {
          const align = c.type === 'string' || c.type === 'date' ? 'left' : 'right';
          return `<td style="text-align:${align};padding:4px 8px">${escapeHtml(formatCell(r[c.name], c.type))}</td>`;
        })
        .join('')}</tr>`,
  );
  const html = `<!doctype html><html><body style="font-family:system-ui,sans-serif;color:#222">
<h2 style="margin:0 0 4px">${escapeHtml(o.title)} — ${escapeHtml(answer.site)}</h2>
<p style="margin:0 0 12px;color:#666">${escapeHtml(period)}</p>
${answer.rule ? `<p style="margin:0 0 12px">${escapeHtml(answer.rule)}</p>` : ''}
<table style="border-collapse:collapse;font-size:14px"><thead><tr>${th.join('')}</tr></thead><tbody>${tr.join('')}</tbody></table>
${more ? `<p style="color:#666">${escapeHtml(more)}</p>` : ''}
${o.link ? `<p><a href="${escapeHtml(o.link)}">Open in storepulse</a></p>` : ''}
</body></html>`;
  return { subject, text, html };
}
