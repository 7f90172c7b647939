/**
 * The Logs page's pure helpers: time ranges as they appear in the URL, click-to-filter edits of
 * the query text, the terms to highlight, and saved searches (kept in this browser's
 * localStorage: the server has no saved-search API for logs).
 */

export const TIME_PRESETS = [
  { id: '', label: 'All time' },
  { id: 'now-15m', label: 'Last 15 minutes' },
  { id: 'now-1h', label: 'Last hour' },
  { id: 'now-24h', label: 'Last 24 hours' },
  { id: 'now-7d', label: 'Last 7 days' },
  { id: 'now-30d', label: 'Last 30 days' },
] as const;

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `now-15m`, an ISO time or epoch ms (as in the URL) → ms since epoch; '' → open end. */
export function resolveTime(v: string, now = Date.now()): number | null {
  if (!v) return null;
  const rel = /^now-(\d+)([mhd])$/.exec(v);
  if (rel) return now - Number(rel[1]) * UNIT_MS[rel[2]];
  if (/^\d+$/.test(v)) return Number(v);
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : t;
}

/** ms → the value of an <input type="datetime-local"> (local time). */
export function toLocalInput(ms: number | null): string {
  if (ms === null) return '';
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

const needsQuotes = (v: string) => !/^[\w.-]+$/.test(v);
const quote = (v: string) => (needsQuotes(v) ? `"${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"` : v);

/** Adds `field:"value"` (or `NOT field:"value"`) to the query with AND. */
export function addFilter(q: string, field: string, value: string | number, exclude = false): string {
  const term = `${exclude ? 'NOT ' : ''}${field}:${quote(String(value))}`;
  const cur = q.trim();
  if (!cur) return term;
  return /\s(OR)\s/i.test(cur) ? `(${cur}) AND ${term}` : `${cur} AND ${term}`;
}

/**
 * Words and phrases of the query that a matching record contains: free text and field values,
 * not operators, ranges, comparisons or negated terms. `*` and `?` stay wildcards.
 */
export function highlightTerms(q: string): string[] {
  const out: string[] = [];
  const token =
    /(-|NOT\s+)?(?:([\w@.]+):)?("(?:[^"\\]|\\.)*"|\[[^\]]*\]?|\{[^}]*\}?|[<>]=?\s*\S+|[^\s()]+)/gi;
  for (const m of q.matchAll(token)) {
    const [, negated, , value] = m;
    if (negated || !value) continue;
    if (/^(AND|OR|NOT|TO)$/i.test(value) || /^[[{<>]|^[\w@.]+[<>]/.test(value)) continue;
    const text = value.startsWith('"') ? value.slice(1, -1).replace(/\\(.)/g, '$1') : value;
    if (text.replace(/[*?]/g, '').length > 0) out.push(text);
  }
  return out;
}

/** One case-insensitive pattern for all terms, or null when there is nothing to mark. */
export function highlightPattern(terms: string[]): RegExp | null {
  if (terms.length === 0) return null;
  const parts = terms
    .sort((a, b) => b.length - a.length)
    .map((t) =>
      t
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replaceAll('*', '\\S*')
        .replaceAll('?', '\\S'),
    );
  // Whole words, as the full-text index matches them: `404` is not marked inside `14047`.
  return new RegExp(`(?<![\\p{L}\\p{N}])(?:${parts.join('|')})(?![\\p{L}\\p{N}])`, 'giu');
}

export interface SavedSearch {
  name: string;
  q: string;
  from: string;
  to: string;
}
const SAVED_KEY = 'storepulse.logs.saved';

export function loadSaved(): SavedSearch[] {
  try {
    const v = JSON.parse(localStorage.getItem(SAVED_KEY) ?? '[]');
    return Array.isArray(v) ? v.filter((s) => typeof s?.name === 'string' && typeof s?.q === 'string') : [];
  } catch {
    return [];
  }
}
export function storeSaved(list: SavedSearch[]) {
  localStorage.setItem(SAVED_KEY, JSON.stringify(list));
}

export const SYNTAX_EXAMPLES: [string, string][] = [
  ['kibana', 'free text anywhere in the line'],
  ['status:404', 'field equals value'],
  ['"GET /favicon.ico"', 'an exact phrase'],
  ['status:404 AND NOT path:"/robots.txt"', 'AND, OR, NOT, (parentheses)'],
  ['status:[500 TO 599]', 'a range, inclusive'],
  ['bytes>10000', 'comparisons: > >= < <='],
  ['path:/presentations/*', 'wildcards * and ?'],
  ['ua:bot OR is_bot:true', 'user agent contains; bot flag'],
];
export const FIELD_NAMES =
  'host ip method path query protocol status bytes referrer user_agent (ua) browser os device_type is_bot response_time level message product_id category_id source parse_error';
