import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../src/testing/nats.js';

/** Shared helpers for the benchmarks: timing, statistics, temp dirs, nginx and wrk. */

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Long-lived cache (generated CSVs) and per-run scratch space. */
export const BENCH_TMP = join(tmpdir(), 'storepulse-bench');

export interface BenchOptions {
  quick: boolean;
  /** Prints progress lines (to stderr, so stdout stays the table). */
  log: (msg: string) => void;
}

/** One line of the results table. `ratio` is value / baseline, `goal` is checked against `goalOn`. */
export interface BenchResult {
  id: string;
  name: string;
  unit: string;
  value: number;
  baselineName: string;
  baseline: number;
  /** value / baseline, or for latency (lower is better) baseline is just the floor. */
  ratio: number;
  goal: string;
  pass: boolean;
  /** Every repetition, for the record. */
  samples: { value: number[]; baseline: number[] };
  notes: string[];
}

export interface Bench {
  id: string;
  title: string;
  run(o: BenchOptions): Promise<BenchResult>;
}

export function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return String(n);
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function scratchDir(name: string): string {
  mkdirSync(BENCH_TMP, { recursive: true });
  return mkdtempSync(join(BENCH_TMP, `${name}-`));
}

export function rmrf(path: string): void {
  rmSync(path, { recursive: true, force: true });
}

export function which(cmd: string): string | null {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

export function requireTool(cmd: string, install: string): string {
  const path = which(cmd);
  if (!path) throw new Error(`${cmd} is not installed; install it with: ${install}`);
  return path;
}

export async function waitForHttp(url: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${url} did not answer in ${timeoutMs} ms: ${err}`);
      await sleep(50);
    }
  }
}

export interface Nginx {
  url: string;
  stop(): Promise<void>;
}

/**
 * nginx with one worker (fair to our one Node process), access log off, serving
 * `location = /t.gif { empty_gif; }` on a free loopback port, in the foreground.
 */
export async function startNginx(): Promise<Nginx> {
  const bin = which('nginx') ?? (which('/usr/sbin/nginx') ? '/usr/sbin/nginx' : null);
  if (!bin) throw new Error('nginx is not installed; install it with: apt-get install -y nginx');
  const prefix = scratchDir('nginx');
  mkdirSync(join(prefix, 'logs'), { recursive: true });
  const port = await freePort();
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off;
master_process on;
worker_processes 1;
pid ${join(prefix, 'nginx.pid')};
error_log ${join(prefix, 'logs', 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path ${join(prefix, 'body')};
  proxy_temp_path ${join(prefix, 'proxy')};
  fastcgi_temp_path ${join(prefix, 'fastcgi')};
  uwsgi_temp_path ${join(prefix, 'uwsgi')};
  scgi_temp_path ${join(prefix, 'scgi')};
  server {
    listen 127.0.0.1:${port};
    location = /t.gif { empty_gif; }
  }
}
`,
  );
  const child = spawn(bin, ['-c', conf, '-p', prefix], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/t.gif`);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`nginx did not start: ${err}\n${out}`);
  }
  return {
    url,
    async stop() {
      await stopChild(child);
      rmrf(prefix);
    },
  };
}

export function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

export interface WrkResult {
  requests: number;
  seconds: number;
  rps: number;
  non2xx: number;
  errors: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  raw: string;
}

/**
 * Runs Debian's wrk against `url`. `body` (with `headers`) turns it into a POST through a Lua
 * script. The script also counts non-2xx answers so a failing server cannot look fast.
 */
export async function wrk(o: {
  url: string;
  seconds: number;
  connections: number;
  threads?: number;
  body?: string;
  headers?: Record<string, string>;
  /** Request paths, one picked at random per request (GET). */
  paths?: string[];
  /** Each connection waits this long between its requests (paces a closed loop). */
  delayMs?: number;
}): Promise<WrkResult> {
  const bin = requireTool('wrk', 'apt-get install -y wrk');
  const dir = scratchDir('wrk');
  const script = join(dir, 'bench.lua');
  const lua: string[] = [];
  if (o.body !== undefined) {
    lua.push('wrk.method = "POST"');
    writeFileSync(join(dir, 'body'), o.body);
    lua.push(
      `local f = io.open(${JSON.stringify(join(dir, 'body'))}, "rb")`,
      'wrk.body = f:read("*a")',
      'f:close()',
    );
  }
  for (const [k, v] of Object.entries(o.headers ?? {}))
    lua.push(`wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`);
  if (o.paths) {
    writeFileSync(join(dir, 'paths'), `${o.paths.join('\n')}\n`);
    lua.push(
      'local paths = {}',
      `for line in io.lines(${JSON.stringify(join(dir, 'paths'))}) do paths[#paths + 1] = line end`,
      'function request() return wrk.format(nil, paths[math.random(#paths)]) end',
    );
  }
  if (o.delayMs !== undefined) lua.push(`function delay() return ${o.delayMs} end`);
  lua.push(
    'local threads = {}',
    'function setup(thread) table.insert(threads, thread) end',
    'function init(args) bad = 0 end',
    'function response(status, headers, body) if status < 200 or status > 299 then bad = bad + 1 end end',
    'function done(summary, latency, requests)',
    '  local n = 0',
    '  for _, t in ipairs(threads) do n = n + t:get("bad") end',
    '  io.write(string.format("BENCH requests=%d seconds=%f non2xx=%d errors=%d p50=%f p99=%f\\n",',
    '    summary.requests, summary.duration / 1e6, n,',
    '    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout,',
    '    latency:percentile(50) / 1000, latency:percentile(99) / 1000))',
    'end',
  );
  writeFileSync(script, `${lua.join('\n')}\n`);
  const args = [
    '-t',
    String(o.threads ?? 1),
    '-c',
    String(o.connections),
    '-d',
    `${o.seconds}s`,
    '--timeout',
    '10s',
    '-s',
    script,
    o.url,
  ];
  const raw = await new Promise<string>((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`wrk exited ${code}: ${out}`))));
  });
  rmrf(dir);
  const m = /BENCH requests=(\d+) seconds=([\d.]+) non2xx=(\d+) errors=(\d+) p50=([\d.]+) p99=([\d.]+)/.exec(
    raw,
  );
  if (!m) throw new Error(`could not read wrk's output:\n${raw}`);
  const requests = Number(m[1]);
  const seconds = Number(m[2]);
  return {
    requests,
    seconds,
    rps: requests / seconds,
    non2xx: Number(m[3]),
    errors: Number(m[4]),
    latencyP50Ms: Number(m[5]),
    latencyP99Ms: Number(m[6]),
    raw,
  };
}

/** Runs `fn` and returns its wall time in ms. */
export async function timed(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

export { freePort };

export interface Paced {
  lat: number[];
  /** Completed answers per second over the phase. */
  rate: number;
  skipped: number;
  failed: number;
  error: string | null;
}

/**
 * Calls `fire` `rate` times a second for `seconds` without waiting for answers (open loop: a
 * request due while `maxInFlight` are outstanding is skipped and counted); returns latencies.
 */
export async function paced(
  seconds: number,
  fire: () => Promise<number>,
  rate: number,
  maxInFlight = 256,
): Promise<Paced> {
  const n = Math.round(rate * seconds);
  const lat: number[] = [];
  const pending: Promise<void>[] = [];
  let failed = 0;
  let skipped = 0;
  let inFlight = 0;
  let error: string | null = null;
  const start = performance.now();
  for (let i = 0; i < n; ) {
    const due = start + (i * 1000) / rate;
    const now = performance.now();
    if (now < due) {
      await sleep(Math.max(0, due - now));
      continue;
    }
    // Catch up on every request due by now (timers fire late by a millisecond or so).
    for (; i < n && start + (i * 1000) / rate <= performance.now(); i++) {
      if (inFlight >= maxInFlight) {
        skipped++;
        continue;
      }
      inFlight++;
      pending.push(
        fire()
          .then(
            (ms) => void lat.push(ms),
            (err: Error) => {
              failed++;
              error ??= String(err.cause ?? err.message);
            },
          )
          .finally(() => inFlight--),
      );
    }
  }
  await Promise.all(pending);
  return { lat, rate: (lat.length / (performance.now() - start)) * 1000, skipped, failed, error };
}

/** CPU seconds a process has used (Linux /proc; utime + stime at 100 ticks/s). */
export function cpuSeconds(pid: number | undefined): number {
  if (!pid) return Number.NaN;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}
