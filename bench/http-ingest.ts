import { spawn } from 'node:child_process';
import { startServer } from '../src/testing/server-process.js';
import {
  type Bench,
  type BenchOptions,
  fmt,
  freePort,
  median,
  startNginx,
  stopChild,
  waitForHttp,
  wrk,
} from './lib.js';

/**
 * (a) Single-event HTTP ingest with durable acks: wrk POSTs one JSON event per request to
 * `POST /api/v1/events` (a 200 means the event is fsynced in the stream). Baseline: nginx, one
 * worker process (fair to our one Node process), access log off, answering
 * `location = /t.gif { empty_gif; }` to the same wrk settings. Load generator: Debian's wrk,
 * one thread, CONNECTIONS keep-alive connections; each run alternates the two targets.
 */
const CONNECTIONS = 64;

/** For scale only (not the baseline): the cheapest POST a Node process can answer, node:http reading the body and sending a JSON 200. */
const BARE_NODE = `const http = require('node:http');
http.createServer((req, res) => { const parts = []; req.on('data', (d) => parts.push(d)); req.on('end', () => {
  try { JSON.parse(Buffer.concat(parts).toString()); } catch {} res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"accepted":1}'); }); })
  .listen(Number(process.argv[1]), '127.0.0.1');`;
const EVENT = '{"type":"view","product_id":"42","price":9.99}';

export const httpIngest: Bench = {
  id: 'a',
  title: 'single-event HTTP ingest vs nginx empty_gif',
  async run(o: BenchOptions) {
    const seconds = o.quick ? 3 : 8;
    const reps = o.quick ? 1 : 3;
    const server = await startServer();
    const nginx = await startNginx();
    const post = {
      url: `${server.url}/api/v1/events`,
      connections: CONNECTIONS,
      body: EVENT,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.writeKey}` },
    };
    const gif = { url: `${nginx.url}/t.gif`, connections: CONNECTIONS };
    const value: number[] = [];
    const baseline: number[] = [];
    const ratios: number[] = [];
    const p99: number[] = [];
    const nginxP99: number[] = [];
    const notes: string[] = [];
    let bareRps = 0;
    try {
      // Warm-up: JIT, connection pools, SQLite pages.
      await wrk({ ...post, seconds: 2 });
      await wrk({ ...gif, seconds: 1 });
      if (!o.quick) {
        const port = await freePort();
        const bare = spawn(process.execPath, ['-e', BARE_NODE, String(port)], { stdio: 'ignore' });
        try {
          await waitForHttp(`http://127.0.0.1:${port}/`);
          await wrk({ ...post, url: `http://127.0.0.1:${port}/`, seconds: 1 });
          const r = await wrk({ ...post, url: `http://127.0.0.1:${port}/`, seconds });
          bareRps = r.rps;
        } finally {
          await stopChild(bare);
        }
      }
      for (let rep = 0; rep < reps; rep++) {
        const ours = await wrk({ ...post, seconds });
        const base = await wrk({ ...gif, seconds });
        if (ours.non2xx > 0 || ours.errors > 0)
          notes.push(
            `run ${rep + 1}: ${ours.non2xx} non-2xx answers, ${ours.errors} socket errors from storepulse`,
          );
        // Only acknowledged (2xx) requests count.
        const ok = (ours.requests - ours.non2xx) / ours.seconds;
        value.push(ok);
        baseline.push(base.rps);
        ratios.push(ok / base.rps);
        p99.push(ours.latencyP99Ms);
        nginxP99.push(base.latencyP99Ms);
        o.log(
          `  rep ${rep + 1}: storepulse ${fmt(ok)} req/s (p99 ${fmt(ours.latencyP99Ms, 1)} ms), nginx ${fmt(base.rps)} req/s (p99 ${fmt(base.latencyP99Ms, 1)} ms)`,
        );
      }
    } finally {
      await nginx.stop();
      await server.stop();
      server.cleanup();
    }
    const ratio = median(ratios);
    if (bareRps > 0) {
      notes.unshift(
        `for scale, not the baseline: a bare node:http server (reads and JSON-parses the body, answers 200, no storage) did ${fmt(bareRps)} req/s = ${(bareRps / median(baseline)).toFixed(2)} × nginx with the same wrk settings`,
      );
    }
    return {
      id: 'a',
      name: 'single-event HTTP ingest, durable ack',
      unit: 'req/s',
      value: median(value),
      baselineName: 'nginx 1 worker, empty_gif',
      baseline: median(baseline),
      ratio,
      goal: '≥ 0.5 × nginx',
      pass: ratio >= 0.5,
      samples: { value, baseline },
      notes: [
        `wrk 1 thread, ${CONNECTIONS} connections, ${seconds} s per run, ${reps} run(s); p99 latency storepulse ${fmt(median(p99), 1)} ms, nginx ${fmt(median(nginxP99), 1)} ms`,
        ...notes,
      ],
    };
  },
};
