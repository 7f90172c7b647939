import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { FilePosition } from './file-follower.js';

/**
 * The positions `storepulse logs tail` has had acknowledged, per followed path, in one JSON
 * file. Written to a temporary file, fsynced and renamed over the old one, so a crash leaves
 * either the old or the new state, never a torn one. A lock file beside it keeps two tail
 * processes from sharing one state (both would send the same lines).
 */
export interface TailStateFile {
  version: 1;
  files: Record<string, FilePosition & { updatedAt: string }>;
}

export class TailState {
  private state: TailStateFile = { version: 1, files: {} };
  private readonly lockPath: string;
  private locked = false;

  constructor(readonly path: string) {
    this.path = resolve(path);
    this.lockPath = `${this.path}.lock`;
  }

  /** Takes the lock (a stale one from a killed process is taken over) and reads the state. */
  open(): void {
    mkdirSync(dirname(this.path), { recursive: true });
    for (let attempt = 0; attempt < 2 && !this.locked; attempt++) {
      try {
        const fd = openSync(this.lockPath, 'wx');
        writeSync(fd, String(process.pid));
        closeSync(fd);
        this.locked = true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const pid = Number(readFileSync(this.lockPath, 'utf8').trim());
        if (pid > 0 && pid !== process.pid && alive(pid))
          throw new Error(
            `another storepulse logs tail (pid ${pid}) uses the state file ${this.path}; stop it or pass --state <other file>`,
          );
        rmSync(this.lockPath, { force: true });
      }
    }
    try {
      const parsed = JSON.parse(readFileSync(this.path, 'utf8')) as TailStateFile;
      if (parsed.version !== 1 || typeof parsed.files !== 'object')
        throw new Error(`${this.path} is not a storepulse tail state file`);
      this.state = parsed;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.close();
        throw new Error(`cannot read the tail state ${this.path}: ${(err as Error).message}`);
      }
    }
  }

  get(file: string): FilePosition | null {
    const p = this.state.files[resolve(file)];
    return p ? { dev: p.dev, ino: p.ino, offset: p.offset, gen: p.gen } : null;
  }

  /** Records a position and makes it durable before returning. */
  save(file: string, pos: FilePosition): void {
    this.state.files[resolve(file)] = { ...pos, updatedAt: new Date().toISOString() };
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, `${JSON.stringify(this.state, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    // The rename itself is durable once the directory is synced.
    const dir = openSync(dirname(this.path), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  }

  close(): void {
    if (this.locked) rmSync(this.lockPath, { force: true });
    this.locked = false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
