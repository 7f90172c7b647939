import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Neighbours } from './cooccurrence.js';
import type { Csr, ItemMeta } from './interactions.js';
import type { ModelInfo } from './types.js';

/**
 * Trained models on disk: `<dataDir>/recs/models/<version>/` holds `model.json` (ModelInfo and
 * the ids) and one raw little-endian file per array (`<name>.bin`); `<dataDir>/recs/current.json`
 * names the version being served for each site. A model directory appears atomically (written
 * under a dot-name, fsynced, renamed), then `current.json` is switched the same way, so a crash
 * never leaves a half model. The newest `keep` versions of each site stay for
 * `storepulse recs rollback`; training one site never prunes another's models.
 */

export interface ModelData {
  info: ModelInfo;
  userIds: string[];
  itemIds: string[];
  items: ItemMeta;
  /** users × f and items × f, row-major. */
  X: Float32Array;
  Y: Float32Array;
  /** users × items confidence weights (history), and purchases (excluded from recommendations). */
  history: Csr;
  purchased: Csr;
  neighbours: Neighbours;
  /** Per item: how many users interacted with it. */
  popularity: Float32Array;
  /** Visitor ids that are known users under their account id (visitor → user id). */
  aliases?: [string, string][];
}

type Arr = Int32Array | Float32Array | Float64Array;
const ARRAYS = {
  X: Float32Array,
  Y: Float32Array,
  'history.indptr': Int32Array,
  'history.indices': Int32Array,
  'history.values': Float32Array,
  'purchased.indptr': Int32Array,
  'purchased.indices': Int32Array,
  'purchased.values': Float32Array,
  'neighbours.indptr': Int32Array,
  'neighbours.indices': Int32Array,
  'neighbours.scores': Float32Array,
  'neighbours.viewed': Int32Array,
  'neighbours.bought': Int32Array,
  popularity: Float32Array,
  price: Float64Array,
} as const;
type ArrayName = keyof typeof ARRAYS;

function arraysOf(m: ModelData): Record<ArrayName, Arr> {
  return {
    X: m.X,
    Y: m.Y,
    'history.indptr': m.history.indptr,
    'history.indices': m.history.indices,
    'history.values': m.history.values,
    'purchased.indptr': m.purchased.indptr,
    'purchased.indices': m.purchased.indices,
    'purchased.values': m.purchased.values,
    'neighbours.indptr': m.neighbours.indptr,
    'neighbours.indices': m.neighbours.indices,
    'neighbours.scores': m.neighbours.scores,
    'neighbours.viewed': m.neighbours.viewed,
    'neighbours.bought': m.neighbours.bought,
    popularity: m.popularity,
    price: m.items.price,
  };
}

function writeDurable(file: string, data: string | Uint8Array): void {
  const fd = openSync(file, 'w');
  try {
    writeFileSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const VERSION_RE = /^\d{8}T\d{6}Z(-\d+)?$/;

export class ModelStore {
  readonly root: string;
  readonly modelsDir: string;
  constructor(
    dataDir: string,
    /** Versions kept on disk (the current one and the previous ones, for rollback). */
    readonly keep = 2,
  ) {
    this.root = join(dataDir, 'recs');
    this.modelsDir = join(this.root, 'models');
  }

  /** Versions on disk, oldest first. */
  versions(): string[] {
    if (!existsSync(this.modelsDir)) return [];
    return readdirSync(this.modelsDir)
      .filter((v) => VERSION_RE.test(v))
      .sort();
  }

  /**
   * The version served for each site. Stores written before per-site pointers have one `current`
   * file naming a version; it counts for that version's site until the site trains again.
   */
  currents(): Record<string, string> {
    const out: Record<string, string> = {};
    const legacy = join(this.root, 'current');
    if (existsSync(legacy)) {
      const v = readFileSync(legacy, 'utf8').trim();
      const site = v ? this.info(v)?.siteId : undefined;
      if (v && site !== undefined) out[site] = v;
    }
    const file = join(this.root, 'current.json');
    if (existsSync(file))
      Object.assign(out, JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>);
    for (const [site, v] of Object.entries(out)) if (!existsSync(join(this.modelsDir, v))) delete out[site];
    return out;
  }

  /** The version served for `siteId`; without a site, the newest current version of any site. */
  current(siteId?: string): string | null {
    const c = this.currents();
    if (siteId !== undefined) return c[siteId] ?? null;
    const all = Object.values(c).sort();
    return all[all.length - 1] ?? null;
  }

  /** The sites that have models on disk. */
  sites(): string[] {
    const sites = new Set<string>();
    for (const v of this.versions()) {
      const site = this.info(v)?.siteId;
      if (site !== undefined) sites.add(site);
    }
    return [...sites].sort();
  }

  /** A fresh version name: the UTC time, made unique. */
  newVersion(now = new Date()): string {
    const base = now
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
    const taken = new Set(this.versions());
    let v = base;
    for (let k = 1; taken.has(v); k++) v = `${base}-${k}`;
    return v;
  }

  /** Writes the model, makes it current, and prunes versions beyond `keep`. Returns the version. */
  save(m: ModelData): string {
    const version = m.info.version;
    mkdirSync(this.modelsDir, { recursive: true });
    const tmp = join(this.modelsDir, `.${version}.tmp`);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    const arrays = arraysOf(m);
    const lengths: Record<string, number> = {};
    for (const [name, a] of Object.entries(arrays)) {
      writeDurable(join(tmp, `${name}.bin`), new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
      lengths[name] = a.length;
    }
    const meta = {
      format: 1,
      info: m.info,
      lengths,
      rows: { history: m.history.rows, items: m.itemIds.length },
      userIds: m.userIds,
      itemIds: m.itemIds,
      categoryCode: m.items.categoryCode,
      brand: m.items.brand,
      aliases: m.aliases ?? [],
    };
    writeDurable(join(tmp, 'model.json'), JSON.stringify(meta));
    writeDurable(join(tmp, 'info.json'), `${JSON.stringify(m.info, null, 2)}\n`);
    fsyncDir(tmp);
    renameSync(tmp, join(this.modelsDir, version));
    fsyncDir(this.modelsDir);
    const previous = this.current(m.info.siteId);
    this.setCurrent(m.info.siteId, version);
    this.prune(m.info.siteId, [version, previous]);
    return version;
  }

  private setCurrent(siteId: string, version: string): void {
    const next = { ...this.currents(), [siteId]: version };
    const tmp = join(this.root, '.current.json.tmp');
    writeDurable(tmp, `${JSON.stringify(next, null, 2)}\n`);
    renameSync(tmp, join(this.root, 'current.json'));
    fsyncDir(this.root);
  }

  /** This site's versions on disk, oldest first. */
  siteVersions(siteId: string): string[] {
    return this.versions().filter((v) => this.info(v)?.siteId === siteId);
  }

  /**
   * Keeps `keep` of the site's versions: first `first` (the new model and the one it replaced,
   * which is what a rollback should return to even when it was itself a rollback), then the
   * newest. Never drops a version some site serves.
   */
  private prune(siteId: string, first: (string | null)[]): void {
    const serving = new Set(Object.values(this.currents()));
    const all = this.siteVersions(siteId);
    const order = [...new Set([...first.filter((v): v is string => v !== null), ...[...all].reverse()])];
    const kept = new Set(order.slice(0, Math.max(1, this.keep)));
    for (const v of all)
      if (!kept.has(v) && !serving.has(v)) rmSync(join(this.modelsDir, v), { recursive: true, force: true });
  }

  /**
   * Makes the site's version before its current one current again. Returns it, or null if there
   * is none. Without a site: the only site with models (an error names them when there are several).
   */
  rollback(siteId?: string): string | null {
    const site = siteId ?? this.onlySite();
    if (site === null) return null;
    const current = this.current(site);
    const older = this.siteVersions(site).filter((v) => current === null || v < current);
    const target = older[older.length - 1];
    if (!target) return null;
    this.setCurrent(site, target);
    return target;
  }

  /** The one site with models, null when there are none; throws when there are several. */
  onlySite(): string | null {
    const sites = this.sites();
    if (sites.length > 1)
      throw new Error(`models of several sites are kept (${sites.join(', ')}): name one with --site`);
    return sites[0] ?? null;
  }

  /** A version's ModelInfo, without loading the model. */
  info(version: string): ModelInfo | null {
    const file = join(this.modelsDir, version, 'info.json');
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ModelInfo) : null;
  }

  /** Loads a version (default: the current one); null when there is no model yet. */
  load(version = this.current()): ModelData | null {
    if (!version) return null;
    const dir = join(this.modelsDir, version);
    const meta = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    const a = {} as Record<ArrayName, Arr>;
    for (const [name, Ctor] of Object.entries(ARRAYS) as [
      ArrayName,
      typeof Int32Array | typeof Float32Array | typeof Float64Array,
    ][]) {
      const buf = readFileSync(join(dir, `${name}.bin`));
      // Copy into an aligned buffer of its own (readFileSync may return a pooled, unaligned slice).
      const bytes = new Uint8Array(buf.byteLength);
      bytes.set(buf);
      a[name] = new Ctor(bytes.buffer, 0, meta.lengths[name]);
    }
    const nUsers = meta.userIds.length;
    const nItems = meta.itemIds.length;
    const csr = (p: 'history' | 'purchased'): Csr => ({
      rows: nUsers,
      cols: nItems,
      indptr: a[`${p}.indptr`] as Int32Array,
      indices: a[`${p}.indices`] as Int32Array,
      values: a[`${p}.values`] as Float32Array,
    });
    return {
      info: meta.info,
      userIds: meta.userIds,
      itemIds: meta.itemIds,
      items: {
        categoryCode: meta.categoryCode,
        brand: meta.brand,
        price: a.price as Float64Array,
      },
      X: a.X as Float32Array,
      Y: a.Y as Float32Array,
      history: csr('history'),
      purchased: csr('purchased'),
      neighbours: {
        indptr: a['neighbours.indptr'] as Int32Array,
        indices: a['neighbours.indices'] as Int32Array,
        scores: a['neighbours.scores'] as Float32Array,
        viewed: a['neighbours.viewed'] as Int32Array,
        bought: a['neighbours.bought'] as Int32Array,
      },
      popularity: a.popularity as Float32Array,
      aliases: meta.aliases ?? [],
    };
  }
}
