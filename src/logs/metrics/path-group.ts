/**
 * A path's group for per-path metrics: its first two segments with ids collapsed, so
 * `/products/12345/reviews` and `/products/987/reviews` are both `/products/:id`. Numbers,
 * UUIDs, long hex strings and other id-like tokens (digits mixed with letters, 16+
 * characters) become `:id`. The number of groups per site is bounded by the caller.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEX = /^[0-9a-f]{8,}$/i;
const NUMBER = /^\d+$/;
const MIXED_ID = /^(?=.*\d)[A-Za-z0-9_-]{6,}$/;

const isId = (s: string) =>
  NUMBER.test(s) || UUID.test(s) || HEX.test(s) || s.length >= 16 || MIXED_ID.test(s);

export const NO_PATH = '(none)';
export const OTHER = 'other';

export function pathGroup(path: string | null, depth = 2): string {
  if (!path) return NO_PATH;
  const clean = path.split(/[?#]/, 1)[0];
  const segments = clean.split('/').filter((s) => s !== '');
  if (segments.length === 0) return '/';
  return `/${segments
    .slice(0, depth)
    .map((s) => (isId(s) ? ':id' : s.toLowerCase()))
    .join('/')}`;
}

/**
 * Keeps at most `max` distinct values per site: the first ones seen keep their name, later
 * ones become `other` (bounded series, however many odd paths scanners try).
 */
export class BoundedNames {
  private readonly seen = new Map<string, Set<string>>();

  constructor(private readonly max: number) {}

  /** Names a site already has (loaded from the store on start). */
  load(site: string, names: Iterable<string>): void {
    const set = this.set(site);
    for (const n of names) if (n !== OTHER) set.add(n);
  }

  name(site: string, value: string): string {
    const set = this.set(site);
    if (set.has(value)) return value;
    if (set.size >= this.max) return OTHER;
    set.add(value);
    return value;
  }

  private set(site: string): Set<string> {
    let s = this.seen.get(site);
    if (!s) {
      s = new Set();
      this.seen.set(site, s);
    }
    return s;
  }
}
