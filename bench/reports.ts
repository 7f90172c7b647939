import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, JsonDuckDBValueConverter } from '@duckdb/node-api';
import { LAKE_TABLES } from '../src/lake/lake.js';
import { LakeWriter } from '../src/lake/writer.js';
import { testEvent } from '../src/realtime/test-events.js';
import { ReportEngine } from '../src/reports/engine.js';
import { lakeDays } from '../src/reports/lake-days.js';
import type { Cell, ReportAnswer } from '../src/reports/types.js';
import { CLI } from '../src/testing/server-process.js';
import { BENCH_TMP, type Bench, type BenchOptions, fmt, median, ROOT } from './lib.js';
import { rawEventsView, rawReportSql } from './reports-raw.js';

/**
 * (i) Store reports over 40 M events: every report through ReportEngine (src/reports: rollups
 * + report SQL, parameters validated and bound) against the same report written by hand as one
 * DuckDB query over the same Parquet files (bench/reports-raw.ts), both on 2 threads (the
 * engine with 2 GB of memory, the baseline with 8 GB, which it needs), in the same run, and
 * checked to give the same rows.
 *
 * The lake comes from `storepulse demo --mode backfill` (40 days × 1 M events/day, seed 42,
 * bots, referrers, UTM tags, floods) and is cached in /tmp/storepulse-bench-40m
 * (STOREPULSE_BENCH_REPORTS_DIR to move it): about 1.6 GB, and generating it takes 1–2 hours on 2
 * cores, so the first run says so and shows progress. --quick uses 3 days × 50 k events.
 */
const FULL = { days: 40, eventsPerDay: 1_000_000, seed: 42 };
const QUICK = { days: 3, eventsPerDay: 50_000, seed: 42 };
const SITE = 'bench';

const CASES: [string, Record<string, string>][] = [
  ['visitors', {}],
  ['visitors', { grain: 'week' }],
  ['visitors', { grain: 'month' }],
  ['cart-abandonment', {}],
  ['cart-abandonment', { by: 'product' }],
  ['cart-abandonment', { by: 'brand' }],
  ['category-heatmap', {}],
  ['category-heatmap', { by: 'weekday', metric: 'revenue' }],
  ['brand-marketing', {}],
  ['funnel', {}],
  ['funnel', { dimension: 'brand' }],
  ['funnel', { dimension: 'device' }],
  ['funnel', { dimension: 'referrer' }],
  ['revenue', {}],
  ['traffic-sources', {}],
  ['traffic-sources', { by: 'campaign', bots: 'include' }],
];

interface LakeInfo {
  days: number;
  eventsPerDay: number;
  seed: number;
  events: number;
  bytes: number;
  generatedAt: string;
  generateSeconds: number;
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return n;
}

/** Moves every file under `from` to the same place under `into` (a day both parts reached is merged). */
function moveInto(from: string, into: string): void {
  mkdirSync(into, { recursive: true });
  for (const e of readdirSync(from, { withFileTypes: true })) {
    const target = join(into, e.name);
    if (e.isDirectory() && existsSync(target)) moveInto(join(from, e.name), target);
    else renameSync(join(from, e.name), target);
  }
}

/** The cached lake for `spec`, generated with the CLI (progress every 30 s) when missing. */
async function ensureLake(dir: string, spec: typeof FULL, log: (m: string) => void): Promise<LakeInfo> {
  const infoFile = join(dir, 'lake.json');
  if (existsSync(infoFile)) {
    const info = JSON.parse(readFileSync(infoFile, 'utf8')) as LakeInfo;
    if (info.days === spec.days && info.eventsPerDay === spec.eventsPerDay && info.seed === spec.seed)
      return info;
    log(`  ${dir} holds another dataset (${info.days} days × ${info.eventsPerDay}); generating anew`);
  }
  // The demo generator is one single-threaded stream, so the history is generated as one part
  // per core (consecutive date ranges, seeds seed, seed+1, …) and the parts' day partitions are
  // then moved into one lake.
  const parts = spec.days >= 10 ? Math.max(1, Math.min(availableParallelism(), 4)) : 1;
  const partial = join(dir, 'data.partial');
  rmSync(join(dir, 'data'), { recursive: true, force: true });
  for (let k = 0; k < 8; k++) rmSync(`${partial}${k ? `.${k}` : ''}`, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const total = spec.days * spec.eventsPerDay;
  log(
    `  generating ${fmt(total)} events (${spec.days} days × ${fmt(spec.eventsPerDay)}) into ${dir} in ${parts} part(s); ` +
      `~${fmt(total / 8_000 / parts / 60)} min at the ~8,000 events/s per core measured for 1 M, ~${fmt((total * 42) / 1e6)} MB`,
  );
  const started = performance.now();
  const endMs = Math.floor(Date.now() / 86_400_000) * 86_400_000;
  const bounds = Array.from({ length: parts + 1 }, (_, k) => Math.round((spec.days * k) / parts));
  const last: string[] = Array(parts).fill('');
  const timer = setInterval(() => log(`  ${last.map((l) => l.trim()).join(' | ')}`), 30_000);
  const outs = await Promise.all(
    Array.from({ length: parts }, (_, k) => {
      const days = bounds[k + 1] - bounds[k];
      const end = new Date(endMs - (spec.days - bounds[k + 1]) * 86_400_000).toISOString();
      const args = [
        '--import',
        'tsx',
        CLI,
        '-d',
        `${partial}${k ? `.${k}` : ''}`,
        'demo',
        '--mode',
        'backfill',
      ];
      args.push('--days', String(days), '--end', end, '--events-per-day', String(spec.eventsPerDay));
      args.push('--seed', String(spec.seed + k), '--site', SITE);
      return new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
        let text = '';
        child.stdout.on('data', (d) => (text += d));
        child.stderr.on('data', (d) => {
          last[k] = String(d).split('\r').filter(Boolean).at(-1) ?? last[k];
        });
        child.on('exit', (code) =>
          code === 0
            ? resolve(text)
            : reject(new Error(`demo backfill exited with ${code}: ${text}${last[k]}`)),
        );
      });
    }),
  ).finally(() => clearInterval(timer));
  const events = outs
    .map((out) => Number(/backfilled ([\d,]+) events/.exec(out)?.[1]?.replaceAll(',', '') ?? Number.NaN))
    .reduce((a, b) => a + b, 0);
  const into = join(partial, 'lake', 'events');
  for (let k = 1; k < parts; k++) {
    const from = join(`${partial}.${k}`, 'lake', 'events');
    moveInto(from, into);
    rmSync(`${partial}.${k}`, { recursive: true, force: true });
  }
  renameSync(partial, join(dir, 'data'));
  const info: LakeInfo = {
    ...spec,
    events,
    bytes: dirBytes(join(dir, 'data', 'lake', 'events')),
    generatedAt: new Date().toISOString(),
    generateSeconds: Math.round((performance.now() - started) / 1000),
  };
  writeFileSync(infoFile, `${JSON.stringify(info, null, 2)}\n`);
  return info;
}

/** Rows as arrays in the answer's column order; the raw rows typed the same way. */
function normalise(answer: ReportAnswer, raw: unknown[][]) {
  const got = answer.rows.map((r) => answer.columns.map((c) => r[c.name]));
  const want = raw.map((row) =>
    row.map((v, i): Cell => {
      if (v === null || v === undefined) return null;
      const t = answer.columns[i]?.type;
      return t === 'date' || t === 'string' ? String(v) : Number(v);
    }),
  );
  return { got, want };
}

const time = async <T>(fn: () => Promise<T>): Promise<[number, T]> => {
  const t = performance.now();
  const r = await fn();
  return [performance.now() - t, r];
};

export const reportsBench: Bench = {
  id: 'i',
  title: 'store reports over 40 M events vs hand-written DuckDB over the same Parquet',
  async run(o: BenchOptions) {
    const spec = o.quick ? QUICK : FULL;
    const dir = o.quick
      ? join(BENCH_TMP, 'reports-quick')
      : (process.env.STOREPULSE_BENCH_REPORTS_DIR ?? '/tmp/storepulse-bench-40m');
    const lake = await ensureLake(dir, spec, o.log);
    const dataDir = join(dir, 'data');
    const eventsDir = join(dataDir, 'lake', 'events');
    const extraName = 'bench-extra.parquet';
    for (const d of lakeDays(dataDir)) for (const f of d.files) if (f.endsWith(extraName)) rmSync(f);
    const days = lakeDays(dataDir).map((d) => d.day);
    const range = {
      from: days[0],
      to: new Date(Date.parse(days.at(-1) as string) + 86_400_000).toISOString().slice(0, 10),
    };
    const notes: string[] = [];

    // Rollups: built once per lake (timed then and remembered), refreshed before every report.
    const engine = await ReportEngine.open({ dataDir, timeoutMs: 3_600_000, memoryLimit: '2GB', threads: 2 });
    // The hand-written queries group 40 M events by session; at 2 GB DuckDB runs out of memory on
    // some (arg_min over strings does not spill), so the baseline gets 8 GB and a spill directory.
    const rawTmp = join(dataDir, 'tmp', 'bench-raw');
    mkdirSync(rawTmp, { recursive: true });
    const rawDb = await DuckDBInstance.create(':memory:', {
      threads: '2',
      memory_limit: '8GB',
      temp_directory: rawTmp,
    });
    const raw = await rawDb.connect();
    const buildFile = join(dir, 'rollups.json');
    const results: { name: string; ours: number; base: number; rows: number; equal: boolean }[] = [];
    try {
      const [buildMs, built] = await time(() => engine.refresh(null, '9999-12-31'));
      if (built.rebuilt.length > 0) {
        writeFileSync(
          buildFile,
          `${JSON.stringify({ ms: Math.round(buildMs), days: built.rebuilt.length, at: new Date().toISOString(), load: loadavg()[0] })}\n`,
        );
        o.log(`  rolled up ${built.rebuilt.length} days in ${fmt(buildMs / 1000, 1)} s`);
      }
      const first = existsSync(buildFile)
        ? (JSON.parse(readFileSync(buildFile, 'utf8')) as {
            ms: number;
            days: number;
            at: string;
            load?: number;
          })
        : null;
      // A changed day (e.g. today under live traffic) is rolled up again on the next report.
      const lastDay = lakeDays(dataDir).at(-1);
      const hourDir = lastDay ? join(lastDay.files[0], '..') : eventsDir;
      const writer = await LakeWriter.open(dataDir);
      let dayMs = Number.NaN;
      try {
        const t = Date.parse(`${lastDay?.day}T${/hour=(\d+)/.exec(hourDir)?.[1] ?? '00'}:30:00Z`);
        const e = testEvent({ type: 'view', time: t, visitor: 'bench-extra', site: SITE, product_id: 'p' });
        await writer.write(LAKE_TABLES.events, [JSON.stringify(e)], extraName);
        [dayMs] = await time(() => engine.refresh(lastDay?.day ?? null, '9999-12-31'));
      } finally {
        for (const d of lakeDays(dataDir)) for (const f of d.files) if (f.endsWith(extraName)) rmSync(f);
        writer.close();
        await engine.refresh(lastDay?.day ?? null, '9999-12-31');
      }

      await raw.run(rawEventsView(join(eventsDir, '*', '*', '*.parquet')));
      const reps = o.quick ? 1 : 3;
      const rawReps = 1; // the hand-written queries take tens of seconds each at 40 M
      for (const [id, extra] of CASES) {
        const p: Record<string, string> = { ...range, ...extra };
        const name = `${id}${Object.keys(extra).length ? ` ${new URLSearchParams(extra)}` : ''}`;
        const ours: number[] = [];
        const base: number[] = [];
        let answer: ReportAnswer | null = null;
        let rawRows: unknown[][] = [];
        const sql = rawReportSql(id, p);
        const bound = { site: SITE, from: range.from, to: range.to, bots: p.bots === 'include' };
        const values = Object.fromEntries(
          [...new Set([...sql.matchAll(/\$([a-z]+)/g)].map((m) => m[1]))].map((n) => [
            n,
            bound[n as keyof typeof bound],
          ]),
        );
        await engine.run(SITE, id, p); // warm: first touch of the rollup tables
        for (let rep = 0; rep < Math.max(reps, rawReps); rep++) {
          if (rep < reps) {
            const [ms, a] = await time(() => engine.run(SITE, id, p));
            ours.push(ms);
            answer = a;
          }
          if (rep < rawReps) {
            const [ms, r] = await time(() => raw.runAndReadAll(sql, values));
            base.push(ms);
            rawRows = r.convertRows(JsonDuckDBValueConverter) as unknown[][];
          }
        }
        const { got, want } = normalise(answer as ReportAnswer, rawRows);
        const equal = JSON.stringify(got) === JSON.stringify(want);
        results.push({ name, ours: median(ours), base: median(base), rows: got.length, equal });
        o.log(
          `  ${name}: engine ${fmt(median(ours))} ms, raw DuckDB ${fmt(median(base))} ms, ${got.length} rows${equal ? '' : ' — ROWS DIFFER'}`,
        );
        if (!equal)
          notes.push(
            `${name}: engine and raw rows differ; first engine row ${JSON.stringify(got[0])}, raw ${JSON.stringify(want[0])}`,
          );
      }
      notes.unshift(
        `${fmt(lake.events)} events over ${days.length} days (${range.from} … ${range.to}, exclusive), ${fmt(lake.bytes / 2 ** 20)} MiB of Parquet; generated by \`storepulse demo --mode backfill --days ${spec.days} --events-per-day ${spec.eventsPerDay} --seed ${spec.seed}\` in ${fmt(lake.generateSeconds / 60, 1)} min (${lake.generatedAt})`,
        `rollups: last build from the lake ${first ? `${first.days} days in ${fmt(first.ms / 1000, 1)} s (${first.at}${built.rebuilt.length > 0 ? ', this run' : ', an earlier run'}, load ${first.load?.toFixed(1) ?? '?'})` : 'not measured'}; one changed day rolled up again in ${fmt(dayMs / 1000, 1)} s; rollup database ${fmt(statSync(join(dataDir, 'reports', 'rollups.duckdb')).size / 2 ** 20)} MiB`,
        `per report (median of ${reps} engine / ${rawReps} raw runs, range = all days):`,
        ...results.map(
          (r) =>
            `  ${r.name}: ${fmt(r.ours)} ms vs ${fmt(r.base)} ms = ${(r.ours / r.base).toFixed(3)}, ${r.rows} rows, ${r.equal ? 'same rows' : 'ROWS DIFFER'}`,
        ),
      );
    } finally {
      raw.closeSync();
      rawDb.closeSync();
      await engine.close();
    }
    const slowest = results.reduce((a, b) => (b.ours > a.ours ? b : a));
    const worstRatio = Math.max(...results.map((r) => r.ours / r.base));
    return {
      id: 'i',
      name: `store reports, ${CASES.length} report queries over ${fmt(lake.events / 1e6, 1)} M events (slowest)`,
      unit: 'ms',
      value: slowest.ours,
      baselineName: `the same report by hand in DuckDB over the Parquet (${slowest.name})`,
      baseline: slowest.base,
      ratio: worstRatio,
      goal: '≤ 1 s each and ≤ 1.2 × raw',
      pass: results.every((r) => r.ours <= 1000 && r.ours / r.base <= 1.2 && r.equal),
      samples: { value: results.map((r) => r.ours), baseline: results.map((r) => r.base) },
      notes,
    };
  },
};
