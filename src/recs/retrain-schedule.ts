import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/schema.js';

/**
 * Retraining inside the server: on a schedule (config `recs.retrain`) or on request
 * (`POST /api/v1/recommendations/train`). The trainer runs as a child process
 * (`storepulse recs train`, at a lower CPU priority), so a long training neither blocks the
 * server's event loop nor can take the server down by running out of memory; the model store
 * keeps the previous version, and the server picks the new one up when the child finishes.
 * One training at a time: the machine's cores are what it is short of.
 */

export type TrainState = 'running' | 'succeeded' | 'failed';

export interface TrainJob {
  id: string;
  siteId: string;
  trigger: 'schedule' | 'api';
  state: TrainState;
  startedAt: string;
  finishedAt: string | null;
  /** Days of the lake read, up to now. */
  days: number;
  /** The trainer's last output lines (its progress: iteration, loss, writing the model). */
  progress: string[];
  error: string | null;
}

export interface RetrainOptions {
  config: Config;
  sites: () => string[];
  /** Called after a successful training, e.g. to load the new model at once. */
  onTrained: (siteId: string) => Promise<void> | void;
  log: { info: (obj: object, msg: string) => void; warn: (obj: object, msg: string) => void };
  /** The command that trains; default: this storepulse CLI (`recs train`). */
  command?: (job: TrainJob, configFile: string) => { cmd: string; args: string[] };
  /** Check the schedule this often (default one minute). */
  tickMs?: number;
  now?: () => number;
}

const KEEP_JOBS = 20;
const PROGRESS_LINES = 30;
const here = dirname(fileURLToPath(import.meta.url));

/** `node [--import tsx] <storepulse cli> -c <file> -d <dataDir> recs train --site … --from <days ago>`. */
export function storepulseCommand(job: TrainJob, configFile: string, dataDir: string) {
  const ts = join(here, '..', 'cli', 'main.ts');
  const js = join(here, '..', 'cli', 'main.js');
  const cli = existsSync(js) ? js : ts;
  const loader =
    cli === ts && !process.execArgv.some((a) => a.includes('tsx')) ? ['--import', 'tsx'] : process.execArgv;
  return {
    cmd: process.execPath,
    args: [
      ...loader,
      cli,
      '-c',
      configFile,
      '-d',
      dataDir,
      'recs',
      'train',
      '--site',
      job.siteId,
      '--from',
      new Date(Date.parse(job.startedAt) - job.days * 86_400_000).toISOString(),
    ],
  };
}

/** The most recent scheduled start at or before `now` (ms), or null when retraining is off. */
export function lastDue(recs: Config['recs'], now: number): number | null {
  if (recs.retrain === 'off') return null;
  const d = new Date(now);
  let due = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), recs.retrainHour);
  if (recs.retrain === 'daily') return due <= now ? due : due - 86_400_000;
  const back = (d.getUTCDay() - recs.retrainWeekday + 7) % 7;
  due -= back * 86_400_000;
  return due <= now ? due : due - 7 * 86_400_000;
}

export class RetrainScheduler {
  private readonly jobs: TrainJob[] = [];
  private child: ChildProcess | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly stateFile: string;
  private readonly now: () => number;
  private stopping = false;

  constructor(private readonly opts: RetrainOptions) {
    this.stateFile = join(opts.config.dataDir, 'recs', 'schedule.json');
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    if (this.opts.config.recs.retrain === 'off') return;
    // A first start counts as a run: a new install trains on its schedule, not the moment it starts.
    if (this.lastRun() === null) this.saveLastRun(this.now());
    this.timer = setInterval(() => this.tick(), this.opts.tickMs ?? 60_000);
    this.timer.unref();
  }

  /** Stops the schedule and a running training (the model store keeps the previous model). */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    const child = this.child;
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }

  private tick(): void {
    const due = lastDue(this.opts.config.recs, this.now());
    const last = this.lastRun();
    if (due === null || (last !== null && last >= due) || this.running()) return;
    this.saveLastRun(this.now());
    // Sites one after another: each waits for the previous to finish.
    const queue = [...this.opts.sites()];
    const next = () => {
      const site = queue.shift();
      if (!site || this.stopping) return;
      const r = this.train(site, 'schedule');
      if ('job' in r) r.done.then(next, next);
    };
    next();
  }

  running(): TrainJob | null {
    return this.jobs.find((j) => j.state === 'running') ?? null;
  }

  /** Recent trainings, newest first (optionally of one site). */
  list(siteId?: string): TrainJob[] {
    return this.jobs.filter((j) => !siteId || j.siteId === siteId);
  }

  get(id: string): TrainJob | null {
    return this.jobs.find((j) => j.id === id) ?? null;
  }

  /** Starts a training, or says which one is running. */
  train(
    siteId: string,
    trigger: TrainJob['trigger'],
    days = this.opts.config.recs.trainDays,
  ): { job: TrainJob; done: Promise<void> } | { busy: TrainJob } {
    const busy = this.running();
    if (busy) return { busy };
    const job: TrainJob = {
      id: randomUUID(),
      siteId,
      trigger,
      state: 'running',
      startedAt: new Date(this.now()).toISOString(),
      finishedAt: null,
      days,
      progress: [],
      error: null,
    };
    this.jobs.unshift(job);
    this.jobs.splice(KEEP_JOBS);
    return { job, done: this.run(job) };
  }

  private run(job: TrainJob): Promise<void> {
    const { config } = this.opts;
    // The child reads the same settings as this server (file and environment resolved here).
    const dir = join(config.dataDir, 'recs');
    mkdirSync(dir, { recursive: true });
    const configFile = join(dir, `.train-${job.id}.json`);
    writeFileSync(configFile, JSON.stringify(config), { mode: 0o600 });
    const { cmd, args } =
      this.opts.command?.(job, configFile) ?? storepulseCommand(job, configFile, config.dataDir);
    this.opts.log.info(
      { site: job.siteId, job: job.id, trigger: job.trigger, days: job.days },
      'recs training started',
    );
    return new Promise<void>((resolve) => {
      const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
      this.child = child;
      try {
        if (child.pid) setPriority(child.pid, 10);
      } catch {
        // Not allowed here: it still runs, at the server's priority.
      }
      let partial = '';
      const onData = (d: Buffer) => {
        // Progress lines may end in \r (a terminal redraw) or \n.
        const parts = (partial + d.toString('utf8')).split(/\r\n|\r|\n/);
        partial = parts.pop() ?? '';
        for (const line of parts) if (line.trim()) job.progress.push(line.trimEnd());
        job.progress.splice(0, Math.max(0, job.progress.length - PROGRESS_LINES));
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      let finished = false;
      const finish = async (code: number | null, err?: Error) => {
        if (finished) return;
        finished = true;
        if (partial.trim()) job.progress.push(partial.trimEnd());
        rmSync(configFile, { force: true });
        this.child = null;
        if (code === 0 && !err) {
          this.opts.log.info({ site: job.siteId, job: job.id }, 'recs training finished');
          // Succeeded once the new model is served, so whoever follows the job sees it next.
          try {
            await this.opts.onTrained(job.siteId);
          } catch (e) {
            this.opts.log.warn({ err: (e as Error).message }, 'recs: loading the new model failed');
          }
          job.finishedAt = new Date(this.now()).toISOString();
          job.state = 'succeeded';
        } else {
          job.finishedAt = new Date(this.now()).toISOString();
          job.state = 'failed';
          job.error = err
            ? err.message
            : `the trainer exited with ${code ?? 'a signal'}: ${job.progress.at(-1) ?? 'no output'}`;
          this.opts.log.warn({ site: job.siteId, job: job.id, error: job.error }, 'recs training failed');
        }
        resolve();
      };
      child.once('error', (err) => void finish(null, err));
      child.once('close', (code) => void finish(code));
    });
  }

  private lastRun(): number | null {
    try {
      const v = JSON.parse(readFileSync(this.stateFile, 'utf8')) as { lastRun?: number };
      return typeof v.lastRun === 'number' ? v.lastRun : null;
    } catch {
      return null;
    }
  }

  private saveLastRun(t: number): void {
    mkdirSync(dirname(this.stateFile), { recursive: true });
    writeFileSync(this.stateFile, JSON.stringify({ lastRun: t }));
  }
}
