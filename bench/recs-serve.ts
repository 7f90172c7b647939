import { loadavg } from 'node:os';
import { loadRecommender } from '../src/recs/train.js';
import type { ModelInfo } from '../src/recs/types.js';
import { runCli, sql, startServer } from '../src/testing/server-process.js';
import {
  type Bench,
  type BenchOptions,
  cpuSeconds,
  fmt,
  median,
  paced,
  percentile,
  rmrf,
  scratchDir,
  sleep,
  wrk,
} from './lib.js';

/**
 * (l) Recommendation serving at a fixed request rate. A real `storepulse serve` gets a demo
 * history backfilled into its lake (`storepulse demo --mode backfill`), its order history rebuilt
 * from it, and a model trained by `storepulse recs train`, which it loads by itself. Then, sent
 * open-loop at a steady RATE per second from this process with a read (`query`) API key, as a
 * store's backend would (node fetch, keep-alive, at most MAX_IN_FLIGHT outstanding: a request due
 * while that many wait is skipped and counted): `GET /api/v1/recommendations/users/<buyer>?n=10`
 * for random buyers known to the model (ALS over the in-memory factors, purchases left out,
 * including those in the order history newer than the model). Baseline, alternating with it at
 * the same pace, same server, same key: the order-history lookup of the same buyers
 * (`GET /api/v1/sites/default/users/<buyer>/orders?limit=20`, an index seek in SQLite), so the
 * ratio is what a recommendation costs over the server's cheapest personal lookup. Similar items
 * and cold-start users are measured too (notes), and the Recommender called in this process
 * (no HTTP) shows the model's own share.
 */
const RATE = 1000;
/** wrk connections, each pausing 10 ms between requests: ≈ 1000/s at ~1 ms per answer. */
const WRK_CONNECTIONS = 11;
const N = 10;
const MAX_IN_FLIGHT = 256;

export const recsServeBench: Bench = {
  id: 'l',
  title: 'recommendation serving (HTTP, 1000 req/s) against the order-history lookup',
  async run(o: BenchOptions) {
    const days = o.quick ? 7 : 14;
    const perDay = o.quick ? 20_000 : 50_000;
    const iterations = o.quick ? 5 : 10;
    const runs = o.quick ? 1 : 3;
    const seconds = o.quick ? 3 : 10;
    const dataDir = scratchDir('recs-serve');
    // The first start creates the site "default" and the admin key; the data goes in next to it.
    const server = await startServer({ dataDir, env: { STOREPULSE_RECS__RELOAD_SECONDS: '1' } });
    const notes: string[] = [];
    const value: number[] = [];
    const baseline: number[] = [];
    const openLoop: number[] = [];
    let sustained = true;
    try {
      const cli = async (args: string[]) => {
        const t = performance.now();
        const r = await runCli(args, { dataDir });
        if (r.code !== 0) throw new Error(`storepulse ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
        return { ...r, seconds: (performance.now() - t) / 1000 };
      };
      o.log(`    demo backfill: ${days} days × ${fmt(perDay)} events…`);
      await cli([
        'demo',
        '--mode',
        'backfill',
        '--days',
        String(days),
        '--events-per-day',
        String(perDay),
        '--site',
        'default',
      ]);
      o.log('    orders rebuild…');
      await cli(['orders', 'rebuild', '--no-progress']);
      o.log(`    recs train (${iterations} iterations)…`);
      const trained = await cli([
        'recs',
        'train',
        '--site',
        'default',
        '--iterations',
        String(iterations),
        '--no-progress',
      ]);
      const version = /trained model (\S+):/.exec(trained.stdout)?.[1];
      const key =
        (await cli(['keys', 'create', 'bench backend', '--scope', 'query'])).stdout
          .trim()
          .split('\n')
          .at(-1) ?? '';
      const auth = { authorization: `Bearer ${key}` };

      let info = null as ModelInfo | null;
      for (let k = 0; k < 600 && info?.version !== version; k++) {
        const res = await fetch(`${server.url}/api/v1/recommendations/model`, { headers: auth });
        info = ((await res.json()) as { current: ModelInfo | null }).current;
        if (info?.version !== version) await sleep(200);
      }
      if (!info || info.version !== version) throw new Error(`the server did not load model ${version}`);

      const buyers = (
        await sql(
          server,
          "select user_id from events where user_id is not null and event_type = 'purchase' group by 1 order by 1 limit 5000",
        )
      ).map((r) => String(r.user_id));
      const products = (
        await sql(
          server,
          "select product_id from events where product_id is not null and event_type = 'view' group by 1 order by count(*) desc limit 1000",
        )
      ).map((r) => String(r.product_id));
      if (buyers.length === 0 || products.length === 0)
        throw new Error('the demo history has no buyers or products');
      let seed = 1;
      const pick = <T>(xs: T[]) => {
        seed = (seed * 48271) % 2147483647;
        return xs[seed % xs.length];
      };
      const http = (path: () => string, check: (body: Record<string, unknown[]>) => boolean) => async () => {
        const p = path();
        const t = performance.now();
        const res = await fetch(`${server.url}${p}`, { headers: auth, signal: AbortSignal.timeout(30_000) });
        const body = (await res.json()) as Record<string, unknown[]>;
        if (!res.ok || !check(body)) throw new Error(`${res.status} for ${p}`);
        return performance.now() - t;
      };
      const callers = {
        user: http(
          () => `/api/v1/recommendations/users/${encodeURIComponent(pick(buyers))}?n=${N}`,
          (b) => b.recommendations?.length === N,
        ),
        orders: http(
          () => `/api/v1/sites/default/users/${encodeURIComponent(pick(buyers))}/orders?limit=20`,
          (b) => (b.orders?.length ?? 0) > 0,
        ),
        similar: http(
          () => `/api/v1/recommendations/items/${encodeURIComponent(pick(products))}/similar?n=${N}`,
          (b) => b.items?.length === N,
        ),
        cold: http(
          () => `/api/v1/recommendations/users/new-${seed}?n=${N}`,
          (b) => b.recommendations?.length === N,
        ),
      };
      const phase = async (name: keyof typeof callers, rate = RATE) => {
        const cpu0 = cpuSeconds(server.child.pid);
        const h = await paced(seconds, callers[name], rate, MAX_IN_FLIGHT);
        const cpuMs = ((cpuSeconds(server.child.pid) - cpu0) * 1000) / Math.max(1, h.lat.length);
        if (h.failed > 0) throw new Error(`${h.failed} ${name} requests failed, e.g. ${h.error}`);
        const text =
          `${name}: p50 ${percentile(h.lat, 50).toFixed(2)} / p99 ${percentile(h.lat, 99).toFixed(2)} / max ${Math.max(...h.lat).toFixed(1)} ms, ` +
          `${fmt(h.rate)} answers/s of ${rate} offered${h.skipped ? ` (${fmt(h.skipped)} skipped: ${MAX_IN_FLIGHT} in flight)` : ''}, server CPU ${cpuMs.toFixed(2)} ms each`;
        return { p99: percentile(h.lat, 99), sustained: h.skipped === 0, text };
      };

      // wrk (C): WRK_CONNECTIONS connections, each pausing 10 ms after an answer, ≈ 1000/s — a
      // closed loop, so this is the server's answer time without the Node client's own pauses
      // (see the order-history bench (h) and docs/BENCHMARKS.md for what the open loop adds).
      const wrkPaths = {
        user: Array.from(
          { length: 20_000 },
          () => `/api/v1/recommendations/users/${encodeURIComponent(pick(buyers))}?n=${N}`,
        ),
        orders: Array.from(
          { length: 20_000 },
          () => `/api/v1/sites/default/users/${encodeURIComponent(pick(buyers))}/orders?limit=20`,
        ),
      };
      const wrkPhase = async (name: keyof typeof wrkPaths) => {
        const cpu0 = cpuSeconds(server.child.pid);
        const r = await wrk({
          url: server.url,
          seconds,
          connections: WRK_CONNECTIONS,
          paths: wrkPaths[name],
          delayMs: 10,
          headers: auth,
        });
        if (r.non2xx > 0 || r.errors > 0)
          throw new Error(`wrk ${name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
        const cpuMs = ((cpuSeconds(server.child.pid) - cpu0) * 1000) / Math.max(1, r.requests);
        return {
          p99: r.latencyP99Ms,
          rps: r.rps,
          text: `wrk ${name}: p50 ${r.latencyP50Ms.toFixed(2)} / p99 ${r.latencyP99Ms.toFixed(2)} ms, ${fmt(r.rps)} answers/s, server CPU ${cpuMs.toFixed(2)} ms each`,
        };
      };

      o.log('    warm-up (2 s of each)…');
      for (const name of Object.keys(callers) as (keyof typeof callers)[])
        await paced(2, callers[name], RATE);
      for (let run = 0; run < runs; run++) {
        const wu = await wrkPhase('user');
        const wo = await wrkPhase('orders');
        const user = await phase('user');
        const orders = await phase('orders');
        value.push(wu.p99);
        baseline.push(wo.p99);
        openLoop.push(user.p99);
        sustained &&= wu.rps >= 0.85 * RATE;
        const line = `run ${run + 1}: ${wu.text}; ${wo.text}; node fetch open loop, ${user.text}; ${orders.text}; load ${loadavg()[0].toFixed(1)}`;
        o.log(`    ${line}`);
        notes.push(line);
      }
      // The same lists well below saturation: what one costs when it does not queue.
      const light = await phase('user', 200);
      o.log(`    at 200 req/s: ${light.text}`);
      notes.push(`at 200 req/s: ${light.text}`);
      for (const name of ['similar', 'cold'] as const) {
        const r = await phase(name);
        o.log(`    ${r.text}`);
        notes.push(r.text);
      }

      // The model alone, in this process: what the HTTP path adds on top of it.
      const model = loadRecommender(dataDir);
      if (model) {
        const lat: number[] = [];
        for (let k = 0; k < 5000; k++) {
          const u = pick(buyers);
          const t = performance.now();
          model.forUser(u, N);
          lat.push(performance.now() - t);
        }
        const sim: number[] = [];
        for (let k = 0; k < 5000; k++) {
          const p = pick(products);
          const t = performance.now();
          model.similarItems(p, N);
          sim.push(performance.now() - t);
        }
        const line = `in process (no HTTP): forUser p50 ${percentile(lat, 50).toFixed(3)} / p99 ${percentile(lat, 99).toFixed(3)} ms, similarItems p50 ${percentile(sim, 50).toFixed(3)} / p99 ${percentile(sim, 99).toFixed(3)} ms`;
        o.log(`    ${line}`);
        notes.push(line);
      }
      notes.unshift(
        `model ${info.version}: ${fmt(info.users)} users × ${fmt(info.items)} items, ${fmt(info.interactions)} interactions, ${info.factors} factors (${fmt(days * perDay)} demo events over ${days} days; trained in ${fmt(trained.seconds)} s with ${iterations} iterations)`,
      );
    } finally {
      await server.stop();
      server.cleanup();
      rmrf(dataDir);
    }
    const v = median(value);
    const b = median(baseline);
    notes.push(
      `p99 medians: wrk user lists ${v.toFixed(2)} ms, wrk order history ${b.toFixed(2)} ms; node fetch open loop user lists ${median(openLoop).toFixed(2)} ms`,
    );
    return {
      id: 'l',
      name: `recommendations for a user p99 (API key, n = ${N}, wrk ≈ ${RATE}/s)`,
      unit: 'ms',
      value: v,
      baselineName: 'order-history lookup of the same buyers, same server, key and wrk pace',
      baseline: b,
      ratio: median(value.map((x, i) => x / baseline[i])),
      goal: 'p99 ≤ 5 ms',
      pass: v <= 5 && sustained,
      samples: { value, baseline },
      notes,
    };
  },
};
