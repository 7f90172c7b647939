import { eachChunk, openLakeEvents } from './interactions.js';
import { ItemScorer } from './item-scorer.js';
import { MetricSums, type UserMetrics } from './metrics.js';
import type { ModelData } from './model-store.js';
import {
  alsTop,
  boughtBy,
  categoryTop,
  cooccurrenceTop,
  historyTop,
  popularIndex,
  popularTop,
  type Skip,
} from './recommender.js';
import { buildModel, type TrainOptions } from './train.js';

/**
 * `recs eval`: a time-based split. Train on the events before the split, then for each user
 * active in the test days, recommend k items with every method and compare with what the
 * user actually viewed, carted or bought in those days. Items the user bought before the
 * split are filtered from every list and from the relevant set (serving never recommends
 * them). Users the model has not seen (cold start) get popularity from every method, as in
 * serving; short lists are filled with popular items so every method shows k.
 */

export interface EvalOptions extends TrainOptions {
  /** Train before, test from (ISO). Default: the start of the day `testDays` before the lake's last day ends. */
  split?: string;
  testDays: number;
  /** Days before the split to train on (default: everything). */
  trainDays?: number;
  k: number;
  /** At most this many test users (a deterministic hash sample). */
  maxUsers: number;
  /** Test on minutes instead of days (tiny samples such as the REES46 excerpt). */
  testMinutes?: number;
}

export const METHODS = [
  'als',
  'cooccurrence',
  'popularity',
  'category popularity',
  'personal history',
] as const;
export type Method = (typeof METHODS)[number];

export type Row = UserMetrics & { method: Method; users: number; coverage: number };

export interface EvalResult {
  split: string;
  trainFrom: string;
  testTo: string;
  model: ModelData['info'];
  testUsers: number;
  coldUsers: number;
  /** Over every test user; and over the users the model knows (cold-start users excluded). */
  all: Row[];
  known: Row[];
  seconds: number;
}

const DAY = 86_400_000;

export async function evaluate(o: EvalOptions, onStage?: (s: string) => void): Promise<EvalResult> {
  const started = performance.now();
  const lake = await openLakeEvents({ ...o, from: undefined, to: undefined });
  try {
    const { conn } = lake;
    const span = (
      await conn.runAndReadAll(
        'SELECT epoch_ms(min(event_time))::DOUBLE, epoch_ms(max(event_time))::DOUBLE FROM recs_events',
      )
    ).getRows()[0] as [number | null, number | null];
    if (span[0] === null || span[1] === null) throw new Error('no view/cart/purchase events in the lake');
    const testLen = o.testMinutes ? o.testMinutes * 60_000 : o.testDays * DAY;
    const split = o.split
      ? Date.parse(o.split)
      : o.testMinutes
        ? span[1] + 1 - testLen
        : Math.floor(span[1] / DAY) * DAY + DAY - testLen;
    if (Number.isNaN(split)) throw new Error(`--split: not a time: ${o.split}`);
    const trainFrom = o.trainDays ? split - o.trainDays * DAY : span[0];
    const testTo = split + testLen;
    if (split <= span[0])
      throw new Error(`nothing to train on before the split ${new Date(split).toISOString()}`);
    const iso = (t: number) => new Date(t).toISOString();
    await conn.run('ALTER TABLE recs_events RENAME TO all_events');
    await conn.run(`CREATE TEMP TABLE recs_events AS SELECT * FROM all_events
      WHERE event_time >= '${iso(trainFrom)}'::TIMESTAMPTZ AND event_time < '${iso(split)}'::TIMESTAMPTZ`);
    onStage?.(`training on ${iso(trainFrom)} … ${iso(split)}, testing on … ${iso(testTo)}`);
    const model = await buildModel({ ...o, from: iso(trainFrom), to: iso(split) }, 'eval', lake);

    onStage?.('ranking');
    const users = new Map(model.userIds.map((id, u) => [id, u]));
    const items = new Map(model.itemIds.map((id, i) => [id, i]));
    const pop = popularIndex(model);
    const scratch = new Float32Array(model.itemIds.length);
    const alsScorer = new ItemScorer(model.Y, model.itemIds.length, model.info.factors);
    const k = o.k;
    const sums = {
      all: new Map(METHODS.map((m) => [m, new MetricSums()])),
      known: new Map(METHODS.map((m) => [m, new MetricSums()])),
    };
    // Unknown items get negative ids: they can be relevant but never recommended.
    let unknownId = -1;
    const unknown = new Map<string, number>();
    const itemIndex = (id: string) => {
      const i = items.get(id);
      if (i !== undefined) return i;
      let j = unknown.get(id);
      if (j === undefined) {
        j = unknownId--;
        unknown.set(id, j);
      }
      return j;
    };
    let testUsers = 0;
    let coldUsers = 0;
    const fill = (list: number[], skip: Skip): number[] => {
      if (list.length >= k) return list;
      const taken = new Set(list);
      return list.concat(popularTop(pop, k - list.length, (i) => skip(i) || taken.has(i)));
    };
    await eachChunk(
      conn,
      `SELECT user_key, list(DISTINCT product_id) FROM all_events
        WHERE event_time >= '${iso(split)}'::TIMESTAMPTZ AND event_time < '${iso(testTo)}'::TIMESTAMPTZ
        GROUP BY user_key ORDER BY hash(user_key) LIMIT ${Math.floor(o.maxUsers)}`,
      (c, rows) => {
        for (let r = 0; r < rows; r++) {
          const u = users.get(String(c[0][r]));
          const skip: Skip = u === undefined ? () => false : boughtBy(model, u);
          const relevant = new Set<number>();
          for (const id of (c[1][r] as { items: unknown[] }).items) {
            const i = itemIndex(String(id));
            if (!skip(i)) relevant.add(i);
          }
          if (relevant.size === 0) continue;
          testUsers++;
          if (u === undefined) {
            coldUsers++;
            const list = popularTop(pop, k);
            for (const m of METHODS) sums.all.get(m)?.add(list, relevant, k);
            continue;
          }
          const lists: Record<Method, number[]> = {
            als: alsTop(model, u, k, skip, alsScorer).indices,
            cooccurrence: fill(cooccurrenceTop(model, u, k, skip, scratch), skip),
            popularity: popularTop(pop, k, skip),
            'category popularity': categoryTop(model, pop, u, k, skip),
            'personal history': fill(historyTop(model, u, k, skip), skip),
          };
          for (const m of METHODS) {
            sums.all.get(m)?.add(lists[m], relevant, k);
            sums.known.get(m)?.add(lists[m], relevant, k);
          }
        }
      },
    );
    const rows = (which: 'all' | 'known'): Row[] =>
      METHODS.map((m) => ({ method: m, ...(sums[which].get(m) as MetricSums).result(model.itemIds.length) }));
    return {
      split: iso(split),
      trainFrom: iso(trainFrom),
      testTo: iso(testTo),
      model: model.info,
      testUsers,
      coldUsers,
      all: rows('all'),
      known: rows('known'),
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    lake.close();
  }
}
