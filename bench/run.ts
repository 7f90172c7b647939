import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname } from 'node:path';
import { batchIngest } from './batch-ingest.js';
import { httpIngest } from './http-ingest.js';
import { importBench } from './import.js';
import { latency } from './latency.js';
import { type Bench, type BenchResult, fmt } from './lib.js';
import { logsBench } from './logs.js';
import { ordersBench } from './orders.js';
import { realtimeThroughput } from './realtime-throughput.js';
import { recsBench } from './recs.js';
import { recsServeBench } from './recs-serve.js';
import { reportsBench } from './reports.js';
import { sseLatency } from './sse-latency.js';
import { streamAppend } from './stream-append.js';

/**
 * `npm run bench [-- --only a,c] [--quick] [--json FILE]`
 *
 * Runs each benchmark with its baseline measured in the same run (DESIGN.md "Performance
 * discipline") and prints one Markdown table row per benchmark: value, baseline, ratio, goal.
 * Progress goes to stderr, the table to stdout. Every benchmark repeats and reports medians;
 * --quick runs each once, shorter, for a smoke test.
 */
const BENCHES: Bench[] = [
  httpIngest,
  batchIngest,
  streamAppend,
  importBench,
  latency,
  realtimeThroughput,
  sseLatency,
  reportsBench,
  ordersBench,
  logsBench,
  recsBench,
  recsServeBench,
];
const ALIASES: Record<string, string> = {
  http: 'a',
  batch: 'b',
  stream: 'c',
  import: 'd',
  latency: 'e',
  realtime: 'f',
  sse: 'g',
  reports: 'i',
  orders: 'h',
  logs: 'j',
  recs: 'k',
  'recs-serve': 'l',
};

function parseArgs(argv: string[]) {
  const o = { only: null as Set<string> | null, quick: false, json: null as string | null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') o.quick = true;
    else if (a === '--only' || a.startsWith('--only=')) {
      const v = a.includes('=') ? a.slice(7) : argv[++i];
      if (!v) throw new Error('--only needs a list, e.g. --only a,c');
      o.only = new Set(v.split(',').map((x) => ALIASES[x.trim()] ?? x.trim()));
      for (const id of o.only) {
        if (!BENCHES.some((b) => b.id === id))
          throw new Error(
            `unknown benchmark "${id}"; use ${BENCHES.map((b) => b.id).join(', ')} or ${Object.keys(ALIASES).join(', ')}`,
          );
      }
    } else if (a === '--json') o.json = argv[++i];
    else if (a === '--help' || a === '-h') {
      console.log(
        `usage: npm run bench -- [--only a,b,...] [--quick] [--json FILE]\n${BENCHES.map((b) => `  ${b.id}  ${b.title}`).join('\n')}`,
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (try --help)`);
  }
  return o;
}

function version(cmd: string, args: string[], re: RegExp): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) return 'not installed';
  return re.exec(`${r.stdout}${r.stderr}`)?.[1] ?? '?';
}

function cell(n: number, unit: string): string {
  if (!Number.isFinite(n)) return String(n);
  return unit === 'ms' ? `${fmt(n)} ms` : `${fmt(n)} ${unit}`;
}

function table(results: BenchResult[]): string {
  const lines = ['| | benchmark | value | baseline | ratio | goal | met |', '|---|---|---|---|---|---|---|'];
  for (const r of results) {
    lines.push(
      `| ${r.id} | ${r.name} | ${cell(r.value, r.unit)} | ${cell(r.baseline, r.unit)} (${r.baselineName}) | ${Number.isFinite(r.ratio) ? r.ratio.toFixed(2) : '–'} | ${r.goal} | ${r.pass ? 'yes' : 'no'} |`,
    );
  }
  return lines.join('\n');
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const env = {
    date: new Date().toISOString(),
    cpus: cpus().length,
    cpu: cpus()[0]?.model ?? '?',
    node: process.version,
    wrk: version('wrk', ['-v'], /wrk (\S+)/),
    nginx: version('nginx', ['-v'], /nginx\/(\S+)/),
    loadStart: loadavg()
      .map((x) => x.toFixed(2))
      .join(' '),
    commit: `${version('git', ['rev-parse', '--short', 'HEAD'], /(\w+)/)}${spawnSync('git', ['status', '--porcelain', 'src'], { encoding: 'utf8' }).stdout.trim() ? ' + uncommitted src changes' : ''}`,
    loadEnd: '',
    quick: o.quick,
  };
  log(
    `storepulse benchmarks ${o.quick ? '(quick) ' : ''}on ${env.cpus} × ${env.cpu}, node ${env.node}, load ${env.loadStart}`,
  );
  const results: BenchResult[] = [];
  const failures: string[] = [];
  const started = performance.now();
  for (const b of BENCHES) {
    if (o.only && !o.only.has(b.id)) continue;
    log(`(${b.id}) ${b.title}`);
    const t = performance.now();
    try {
      const r = await b.run({ quick: o.quick, log });
      results.push(r);
      log(
        `    → ${cell(r.value, r.unit)} vs ${cell(r.baseline, r.unit)}, ratio ${r.ratio.toFixed(2)} (${fmt((performance.now() - t) / 1000)} s)`,
      );
    } catch (err) {
      failures.push(`(${b.id}) ${b.title}: ${(err as Error).message}`);
      log(`    ✗ ${(err as Error).stack ?? err}`);
    }
  }
  env.loadEnd = loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  console.log(`\n${table(results)}\n`);
  for (const r of results) for (const n of r.notes) console.log(`- (${r.id}) ${n}`);
  for (const f of failures) console.log(`- FAILED ${f}`);
  console.log(
    `\n${env.date}, commit ${env.commit}, ${env.cpus} × ${env.cpu}, node ${env.node}, wrk ${env.wrk}, nginx ${env.nginx}; load average ${env.loadStart} at start, ${env.loadEnd} at end; ${fmt((performance.now() - started) / 1000)} s`,
  );
  if (o.json) {
    mkdirSync(dirname(o.json), { recursive: true });
    writeFileSync(o.json, `${JSON.stringify({ env, results, failures }, null, 2)}\n`);
  }
  if (failures.length > 0) process.exitCode = 1;
}

await main();
