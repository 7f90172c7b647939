import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(root, 'src', 'cli', 'main.ts');

export interface ServerProcess {
  url: string;
  dataDir: string;
  writeKey: string;
  apiKey: string;
  child: ChildProcess;
  output: () => string;
  /** SIGKILL (no shutdown hooks), as a crash or power cut would. */
  kill9(): Promise<void>;
  stop(): Promise<void>;
  /** Starts the server again on the same data dir and port. */
  restart(): Promise<void>;
  cleanup(): void;
}

/** Runs the storepulse CLI with tsx, as a user would; `input` is written to its stdin. */
export function runCli(
  args: string[],
  opts: { dataDir?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', CLI, ...(opts.dataDir ? ['-d', opts.dataDir] : []), ...args],
      { env: { ...process.env, ...opts.env }, cwd: root },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

/**
 * Starts a real `storepulse serve` process on a free port with a fresh data dir and reads the
 * first-run write key and admin API key from its output.
 */
export async function startServer(
  opts: {
    env?: NodeJS.ProcessEnv;
    dataDir?: string /** Node flags, e.g. --cpu-prof. */;
    nodeArgs?: string[];
  } = {},
): Promise<ServerProcess> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'storepulse-test-'));
  let port = 0;
  let out = '';
  let child!: ChildProcess;
  let writeKey = '';
  let apiKey = '';
  let url = '';

  const launch = () =>
    new Promise<void>((resolve, reject) => {
      out = '';
      child = spawn(
        process.execPath,
        [
          ...(opts.nodeArgs ?? []),
          '--import',
          'tsx',
          CLI,
          '-d',
          dataDir,
          'serve',
          '--port',
          String(port),
          '--host',
          '127.0.0.1',
        ],
        {
          env: { ...process.env, STOREPULSE_SERVER__LOG_LEVEL: 'warn', ...opts.env },
          cwd: root,
        },
      );
      const timer = setTimeout(() => reject(new Error(`server did not start in 30 s:\n${out}`)), 30_000);
      const onData = (d: Buffer) => {
        out += d;
        writeKey ||= /write key \(trackers, SDKs\):\s+(\S+)/.exec(out)?.[1] ?? '';
        apiKey ||= /admin API key \(SQL, admin\):\s+(\S+)/.exec(out)?.[1] ?? '';
        const m = /storepulse is running at (http:\/\/[\d.]+:(\d+))/.exec(out);
        if (m && (writeKey || !out.includes('First run'))) {
          url = m[1];
          port = Number(m[2]);
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`server exited with ${code}:\n${out}`));
      });
    });

  await launch();
  const exited = () =>
    new Promise<void>((r) =>
      child.exitCode !== null || child.signalCode ? r() : child.once('exit', () => r()),
    );
  const server: ServerProcess = {
    get url() {
      return url;
    },
    dataDir,
    writeKey,
    apiKey,
    get child() {
      return child;
    },
    output: () => out,
    async kill9() {
      child.kill('SIGKILL');
      await exited();
    },
    async stop() {
      child.kill('SIGTERM');
      await exited();
    },
    restart: launch,
    cleanup() {
      if (child.exitCode === null && !child.signalCode) child.kill('SIGKILL');
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return server;
}

/** POSTs JSON with the site's write key. */
export async function postEvents(
  server: { url: string; writeKey: string },
  body: unknown,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${server.url}/api/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${server.writeKey}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> | null };
}

/** SQL through the HTTP API with the admin key. */
export async function sql(
  server: { url: string; apiKey: string },
  query: string,
  maxRows = 1_000_000,
): Promise<Record<string, unknown>[]> {
  const res = await fetch(`${server.url}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${server.apiKey}` },
    body: JSON.stringify({ sql: query, maxRows }),
  });
  const body = (await res.json()) as { rows?: Record<string, unknown>[]; error?: string };
  if (!res.ok) throw new Error(`query failed (${res.status}): ${body.error}`);
  return body.rows ?? [];
}

/** Polls until `check` returns true or the time runs out. */
export async function eventually(
  check: () => Promise<boolean>,
  timeoutMs = 15_000,
  stepMs = 200,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}
