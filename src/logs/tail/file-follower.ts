import { randomUUID } from 'node:crypto';
import { closeSync, fstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Follows one log file by name, like `tail -F`: complete lines from a position, across
 * rename rotation (the old file is read to its end before the new one) and copytruncate
 * (a file shorter than the position is read again from its start). A last line without a
 * newline is held until it is complete. The position only moves when the caller commits a
 * chunk (after the server acknowledged it), so a crash re-reads, never skips.
 */

/** Where reading stands in one file, identified by device and inode (a name can change). */
export interface FilePosition {
  dev: number;
  ino: number;
  offset: number;
  /**
   * Names this run of the file's contents, new whenever it starts over (a new file, or one that
   * was truncated). With the byte offset it gives each line a key, so a resent line is stored once.
   */
  gen: string;
}

export interface Chunk {
  gen: string;
  /** Byte offset of `text` in the file. */
  offset: number;
  /** The bytes as read, complete lines with their newlines. */
  text: string;
  lines: string[];
  /** Makes the chunk's end the new position; call after the server acknowledged it. */
  commit(): void;
}

interface Handle extends FilePosition {
  fd: number;
}

const newGen = () => randomUUID().replaceAll('-', '');

export interface FollowerOptions {
  /** Where a file without a saved position starts: its beginning (default) or its end. */
  fromEnd?: boolean;
  maxLines?: number;
  maxBytes?: number;
  onNotice?: (message: string) => void;
}

export class FileFollower {
  private cur: Handle | null = null;
  /** The file the name pointed to before a rotation, read to its end first. */
  private old: Handle | null = null;
  private waitingNoticed = false;
  private opened = false;
  private readonly buf: Buffer;

  constructor(
    readonly path: string,
    private saved: FilePosition | null,
    private readonly o: FollowerOptions = {},
  ) {
    this.buf = Buffer.alloc(o.maxBytes ?? 4 * 1024 * 1024);
  }

  /** The position to save: the rotated file while it is being finished, else the current one. */
  get position(): FilePosition | null {
    const h = this.old ?? this.cur;
    return h ? { dev: h.dev, ino: h.ino, offset: h.offset, gen: h.gen } : this.saved;
  }

  /** The next chunk of complete lines, or null when there is nothing new yet. */
  next(): Chunk | null {
    if (!this.cur && !this.open()) return null;
    if (this.old) {
      const c = this.read(this.old, true);
      if (c) return c;
      closeSync(this.old.fd);
      this.old = null;
    }
    const cur = this.cur as Handle;
    const size = fstatSync(cur.fd).size;
    if (size < cur.offset) {
      this.notice(`${this.path} was truncated (copytruncate?); reading it again from the start`);
      cur.offset = 0;
      cur.gen = newGen();
    }
    const c = this.read(cur, false);
    if (c) return c;
    // Nothing new: has the name moved on to another file (rename rotation)?
    const now = this.statPath();
    if (now && (now.ino !== cur.ino || now.dev !== cur.dev)) {
      this.notice(`${this.path} was rotated; finishing the old file, then following the new one`);
      this.old = cur;
      this.cur = null;
      if (!this.open()) return null;
      return this.next();
    }
    return null;
  }

  close(): void {
    for (const h of [this.old, this.cur]) if (h) closeSync(h.fd);
    this.old = this.cur = null;
  }

  private statPath(): { dev: number; ino: number } | null {
    try {
      const st = statSync(this.path);
      return { dev: st.dev, ino: st.ino };
    } catch {
      return null;
    }
  }

  private notice(message: string): void {
    this.o.onNotice?.(message);
  }

  /** Opens the name; on the first open, resumes the saved position (finding a rotated file by inode). */
  private open(): boolean {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      if (!this.waitingNoticed) this.notice(`${this.path} does not exist (yet); waiting for it`);
      this.waitingNoticed = true;
      return false;
    }
    this.waitingNoticed = false;
    const st = fstatSync(fd);
    const h: Handle = { fd, dev: st.dev, ino: st.ino, offset: 0, gen: newGen() };
    const saved = this.saved;
    const first = !this.opened;
    this.saved = null;
    this.opened = true;
    if (saved && saved.dev === h.dev && saved.ino === h.ino) {
      h.offset = saved.offset;
      h.gen = saved.gen;
      if (st.size < saved.offset) {
        this.notice(`${this.path} is shorter than when last read (copytruncate?); reading it from the start`);
        h.offset = 0;
        h.gen = newGen();
      }
    } else if (saved) {
      // Rotated while we were stopped: finish the old file if it is still next to the new one.
      const oldPath = this.findByInode(saved);
      if (oldPath) {
        const ofd = openSync(oldPath, 'r');
        this.old = { fd: ofd, ...saved };
        this.notice(`${this.path} was rotated while stopped; finishing ${oldPath} first`);
      } else
        this.notice(
          `${this.path} was rotated while stopped and the old file is gone; lines after the saved position in it are lost`,
        );
    } else if (first && this.o.fromEnd) h.offset = st.size;
    this.cur = h;
    return true;
  }

  private findByInode(p: FilePosition): string | null {
    const dir = dirname(this.path);
    const base = basename(this.path);
    try {
      for (const name of readdirSync(dir)) {
        if (!name.startsWith(base) || name === base) continue;
        const full = join(dir, name);
        const st = statSync(full, { throwIfNoEntry: false });
        if (st?.isFile() && st.ino === p.ino && st.dev === p.dev) return full;
      }
    } catch {
      return null;
    }
    return null;
  }

  /**
   * Complete lines from `h.offset`. `final`: the file will not grow any more (rotated away),
   * so a last line without a newline is complete too.
   */
  private read(h: Handle, final: boolean): Chunk | null {
    const maxLines = this.o.maxLines ?? 1000;
    const n = readSync(h.fd, this.buf, 0, this.buf.length, h.offset);
    if (n === 0) return null;
    const lines: string[] = [];
    let end = 0;
    while (lines.length < maxLines) {
      const nl = this.buf.indexOf(10, end);
      if (nl < 0 || nl >= n) break;
      lines.push(this.buf.toString('utf8', end, nl).replace(/\r$/, ''));
      end = nl + 1;
    }
    if (lines.length === 0) {
      // No newline: a line longer than the buffer is sent in pieces; a short one waits, unless final.
      if (n < this.buf.length && !final) return null;
      lines.push(this.buf.toString('utf8', 0, n));
      end = n;
    }
    const newOffset = h.offset + end;
    return {
      gen: h.gen,
      offset: h.offset,
      text: this.buf.toString('utf8', 0, end),
      lines,
      commit: () => {
        h.offset = newOffset;
      },
    };
  }
}
