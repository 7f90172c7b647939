import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ALERTMANAGER = '/usr/bin/prometheus-alertmanager';
export const alertmanagerMissing = (): string | false =>
  existsSync(ALERTMANAGER) ? false : 'needs Prometheus Alertmanager: apt-get install prometheus-alertmanager';

export interface AlertmanagerProcess {
  url: string;
  /** The alerts Alertmanager holds now (GET /api/v2/alerts). */
  alerts(): Promise<
    { labels: Record<string, string>; annotations: Record<string, string>; status: { state: string } }[]
  >;
  stop(): Promise<void>;
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

/** A real Alertmanager (Debian prometheus-alertmanager) on a free loopback port, clustering off. */
export async function startAlertmanager(): Promise<AlertmanagerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'storepulse-am-'));
  const config = join(dir, 'alertmanager.yml');
  writeFileSync(config, 'route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let out = '';
  const child: ChildProcess = spawn(
    ALERTMANAGER,
    [
      `--config.file=${config}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  for (let i = 0; ; i++) {
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (i > 100 || child.exitCode !== null) throw new Error(`alertmanager did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    alerts: async () => (await fetch(`${url}/api/v2/alerts`)).json(),
    stop: async () => {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
