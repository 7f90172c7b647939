import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Real Debian nats-server processes for tests: started on free ports, each with its own store. */
export function natsServerMissing(): string | false {
  try {
    execFileSync('nats-server', ['--version'], { stdio: 'ignore' });
    return false;
  } catch {
    return 'nats-server is not installed (Debian: apt-get install nats-server); skipping the NATS tests';
  }
}

export interface NatsNode {
  name: string;
  url: string;
  proc: ChildProcess;
  exited: Promise<void>;
  dir: string;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export async function waitForPort(port: number, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = tcpConnect(port, '127.0.0.1', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nats-server did not listen on ${port} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startNatsNode(
  name: string,
  port: number,
  cluster?: { port: number; routes: number[] },
): Promise<NatsNode> {
  const dir = await mkdtemp(join(tmpdir(), `storepulse-nats-${name}-`));
  const args = [
    '-a',
    '127.0.0.1',
    '-p',
    String(port),
    '-n',
    name,
    '-js',
    '-sd',
    dir,
    '-l',
    join(dir, 'server.log'),
  ];
  if (cluster) {
    args.push('--cluster_name', 'storepulse', '--cluster', `nats://127.0.0.1:${cluster.port}`);
    args.push('--routes', cluster.routes.map((p) => `nats://127.0.0.1:${p}`).join(','));
  }
  const proc = spawn('nats-server', args, { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  await waitForPort(port);
  return { name, url: `nats://127.0.0.1:${port}`, proc, exited, dir };
}

export async function killNatsNode(node: NatsNode, removeStore = false): Promise<void> {
  if (node.proc.exitCode === null && node.proc.signalCode === null) node.proc.kill('SIGKILL');
  await node.exited;
  if (removeStore) await rm(node.dir, { recursive: true, force: true });
}
