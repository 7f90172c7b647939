import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer } from '../src/testing/server-process.js';
import { batchEvents, CONNECTIONS } from './batch-ingest.js';
import { fmt, rmrf, scratchDir, wrk } from './lib.js';

/**
 * Where a loaded server spends its main thread: starts `storepulse serve` under `--cpu-prof`,
 * drives it with benchmark (b)'s load (wrk, 8 connections, 1000-event batches) for a while,
 * stops it and sums the profile's self time per source file, as a share of the thread's busy
 * time. Not a benchmark (no baseline): the tool behind the breakdown in docs/BENCHMARKS.md.
 *
 *   npx tsx bench/profile-ingest.ts [seconds]
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** src/x/y.ts → src/x/y.ts; node_modules/pkg/… → node_modules/pkg; node internals and GC by name. */
function place(n: ProfileNode): string {
  const url = n.callFrame.url;
  if (!url) return n.callFrame.functionName || '(native)';
  const src = /\/(src\/.*)$/.exec(url);
  if (src) return src[1];
  const mod = /\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (mod) return `node_modules/${mod[1]}`;
  return url.startsWith('node:') ? 'node internals' : url;
}

function selfTimeByPlace(p: Profile): { busyMs: number; places: [string, number][] } {
  const byNode = new Map(p.nodes.map((n) => [n.id, n]));
  const sums = new Map<string, number>();
  let busy = 0;
  p.samples.forEach((id, i) => {
    const node = byNode.get(id);
    if (!node || node.callFrame.functionName === '(idle)') return;
    const us = p.timeDeltas[i] ?? 0;
    busy += us;
    const k = place(node);
    sums.set(k, (sums.get(k) ?? 0) + us);
  });
  return {
    busyMs: busy / 1000,
    places: [...sums].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, v / busy]),
  };
}

async function main() {
  const arg = process.argv[2];
  if (arg === '--help' || arg === '-h') {
    console.log(
      'usage: npx tsx bench/profile-ingest.ts [seconds=15]\n  profiles a server under benchmark (b)’s load and prints its main thread’s time per source file',
    );
    return;
  }
  const seconds = Number(arg ?? 15);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error('seconds must be a positive number');
  const dir = scratchDir('profile-ingest');
  const server = await startServer({ nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
  let events = 0;
  try {
    const body = `{"events":[${batchEvents().join(',')}]}`;
    console.error(`loading ${server.url} for ${seconds} s…`);
    const r = await wrk({
      url: `${server.url}/api/v1/events`,
      connections: CONNECTIONS,
      seconds,
      body,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.writeKey}` },
    });
    events = ((r.requests - r.non2xx) * 1000) / r.seconds;
  } finally {
    await server.stop();
  }
  // The main thread's profile is thread 0: CPU.<date>.<time>.<pid>.0.<seq>.cpuprofile.
  const main = readdirSync(dir).find((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f));
  if (!main) throw new Error(`no main-thread profile in ${dir}: did the server exit cleanly?`);
  const { busyMs, places } = selfTimeByPlace(JSON.parse(readFileSync(join(dir, main), 'utf8')));
  console.log(
    `${fmt(events)} events/s acknowledged; main thread busy ${fmt(busyMs / 1000, 1)} s in the whole run (start-up included)`,
  );
  for (const [k, share] of places.slice(0, 20))
    console.log(`${(share * 100).toFixed(1).padStart(5)} %  ${k}`);
  rmrf(dir);
}

await main();
