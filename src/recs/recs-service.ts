import type { OrderStore } from '../orders/order-store.js';
import type { ProductAvailability } from './availability.js';
import type { ModelInfo, Recommendation, Recommender } from './types.js';

/**
 * Serving side of recommendations: the current model of each site, in memory.
 *
 * A model is loaded completely before it replaces the one being served (a single reference
 * swap), so a request sees either the old model or the new one, never a half-loaded one. The
 * store on disk is polled for a new current version (the trainer runs in another process:
 * `storepulse recs train` or the server's scheduled retraining), and `refresh()` checks at once.
 */

/** What serving needs from the versioned model store written by training. */
export interface ModelSource {
  /** The version serving should use for this site, or null when none was trained yet. */
  currentVersion(siteId: string): string | null;
  /** Stored versions of this site, newest first (the current one and those kept for rollback). */
  versions(siteId: string): ModelInfo[];
  /** Reads a version into memory; may take a while for a large model. */
  load(siteId: string, version: string): Promise<Recommender>;
}

export const NO_MODEL_HINT = 'train one with `storepulse recs train`';

/** An expected failure of a lookup: a value with the HTTP status that carries it. */
export interface RecsMiss {
  ok: false;
  status: 404 | 503;
  reason: string;
}

export interface UserRecs {
  ok: true;
  siteId: string;
  userId: string;
  /** The user has no interactions in the model's training range: best-sellers instead. */
  coldStart: boolean;
  model: { version: string; trainedAt: string };
  /** Products bought after the model was trained (from the order history), left out too. */
  excludedRecentPurchases: number;
  recommendations: Recommendation[];
}

export interface SimilarItems {
  ok: true;
  siteId: string;
  productId: string;
  model: { version: string; trainedAt: string };
  items: Recommendation[];
}

export interface RecsServiceOptions {
  source: ModelSource;
  /** Site ids to serve (read on each poll, so new sites are picked up). */
  sites: () => string[];
  /** Fresher purchases than the model's training range are left out of a user's list. */
  orders?: Pick<OrderStore, 'productsBoughtSince'>;
  /** Products the store marked unavailable are left out of every list. */
  availability?: Pick<ProductAvailability, 'unavailable' | 'version'>;
  /** How often to look for a new model version (default 5 s; 0 = only on refresh()). */
  pollMs?: number;
  onLoad?: (info: ModelInfo, ms: number) => void;
  onError?: (err: Error, siteId: string, version: string) => void;
}

interface Served {
  model: Recommender;
  /** `info.to` as epoch ms: purchases at or after it are newer than the model. */
  trainedUntil: number;
  /** The availability version applied to the model (-1: none yet). */
  availability: number;
}

/** Events up to here are in the model: its range's end, or (open range) when training started. */
function trainedUntil(info: ModelInfo): number {
  const to = Date.parse(info.to);
  return Number.isFinite(to) ? to : Date.parse(info.trainedAt) - info.trainSeconds * 1000;
}

export class RecsService {
  private readonly served = new Map<string, Served>();
  /** Version last attempted per site, so a broken version is not reloaded on every poll. */
  private readonly attempted = new Map<string, string>();
  private readonly loading = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: RecsServiceOptions) {}

  /** Loads every site's current model, then polls for new versions. */
  async start(): Promise<void> {
    await this.refresh();
    const every = this.opts.pollMs ?? 5000;
    if (every > 0) {
      this.timer = setInterval(() => void this.refresh(), every);
      this.timer.unref();
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Swaps in the current version of each site (or one site) if it changed; resolves once loaded. */
  async refresh(siteId?: string): Promise<void> {
    const sites = siteId ? [siteId] : this.opts.sites();
    await Promise.all(sites.map((s) => this.refreshSite(s)));
  }

  private refreshSite(siteId: string): Promise<void> {
    const running = this.loading.get(siteId);
    if (running) return running.then(() => this.refreshSite(siteId));
    let version: string | null;
    try {
      version = this.opts.source.currentVersion(siteId);
    } catch (err) {
      this.opts.onError?.(err as Error, siteId, '?');
      return Promise.resolve();
    }
    if (version === null) {
      // Models removed (or never trained): serve nothing rather than a model nobody can see on disk.
      this.served.delete(siteId);
      this.attempted.delete(siteId);
      return Promise.resolve();
    }
    if (this.attempted.get(siteId) === version) return Promise.resolve();
    this.attempted.set(siteId, version);
    const started = performance.now();
    const job = this.opts.source
      .load(siteId, version)
      .then((model) => {
        // The one point where serving changes model: everything above ran on the side.
        this.served.set(siteId, { model, trainedUntil: trainedUntil(model.info), availability: -1 });
        this.opts.onLoad?.(model.info, performance.now() - started);
      })
      .catch((err: Error) => this.opts.onError?.(err, siteId, version))
      .finally(() => this.loading.delete(siteId));
    this.loading.set(siteId, job);
    return job;
  }

  /** The model being served for a site, or null. */
  current(siteId: string): Recommender | null {
    return this.served.get(siteId)?.model ?? null;
  }

  private noModel(siteId: string): RecsMiss {
    const v = this.attempted.get(siteId);
    return {
      ok: false,
      status: 503,
      reason: v
        ? `the model "${v}" of site "${siteId}" could not be loaded (see the server log); ${NO_MODEL_HINT} again`
        : `no model yet for site "${siteId}" — ${NO_MODEL_HINT}`,
    };
  }

  /** The served model of a site with the store's current unavailable products applied. */
  private servedFor(siteId: string): Served | undefined {
    const served = this.served.get(siteId);
    const a = this.opts.availability;
    if (served && a) {
      const v = a.version(siteId);
      if (served.availability !== v) {
        served.model.setUnavailable(a.unavailable(siteId));
        served.availability = v;
      }
    }
    return served;
  }

  forUser(siteId: string, userId: string, n: number): UserRecs | RecsMiss {
    const served = this.servedFor(siteId);
    if (!served) return this.noModel(siteId);
    const { model, trainedUntil } = served;
    const fresh = this.purchasedSince(siteId, userId, trainedUntil);
    const recs = model.forUser(userId, n + fresh.size);
    const kept = fresh.size === 0 ? recs : recs.filter((r) => !fresh.has(r.productId));
    return {
      ok: true,
      siteId,
      userId,
      coldStart: !model.knowsUser(userId),
      model: { version: model.info.version, trainedAt: model.info.trainedAt },
      excludedRecentPurchases: recs.length - kept.length,
      recommendations: kept.slice(0, n),
    };
  }

  similarItems(siteId: string, productId: string, n: number): SimilarItems | RecsMiss {
    const served = this.servedFor(siteId);
    if (!served) return this.noModel(siteId);
    const items = served.model.similarItems(productId, n);
    if (items === null)
      return {
        ok: false,
        status: 404,
        reason: `product "${productId}" is not in the model of site "${siteId}" (no views, carts or purchases in its training range)`,
      };
    return {
      ok: true,
      siteId,
      productId,
      model: { version: served.model.info.version, trainedAt: served.model.info.trainedAt },
      items,
    };
  }

  /** The model served now and the stored versions (newest first), for the API and the page. */
  models(siteId: string): { current: ModelInfo | null; versions: ModelInfo[]; hint: string | null } {
    const current = this.served.get(siteId)?.model.info ?? null;
    let versions: ModelInfo[] = [];
    try {
      versions = this.opts.source.versions(siteId);
    } catch (err) {
      this.opts.onError?.(err as Error, siteId, '?');
    }
    return {
      current,
      versions,
      hint: current
        ? null
        : versions.length > 0
          ? this.noModel(siteId).reason
          : `no model yet — ${NO_MODEL_HINT}`,
    };
  }

  /** Products the order history saw this customer buy at or after `since` (ms). */
  private purchasedSince(siteId: string, userId: string, since: number): Set<string> {
    if (!this.opts.orders || !Number.isFinite(since)) return new Set();
    return new Set(this.opts.orders.productsBoughtSince(siteId, userId, since));
  }
}
