/**
 * TCP syslog framing (RFC 6587): octet counting (`LEN SP MSG`) or a trailer (LF; also NUL,
 * which some senders use). Decided per frame by its first byte, as rsyslog does, so one
 * connection may mix both. Bytes are buffered across packets; a frame longer than `maxBytes`
 * is cut to `maxBytes` and flagged, and the rest of it is skipped without being held in memory.
 */

export interface Frame {
  text: string;
  /** Bytes the sender sent for this frame when it was cut, else null. */
  truncatedFrom: number | null;
}

const SP = 0x20;
const LF = 0x0a;
const NUL = 0x00;

export class SyslogFramer {
  private buf: Buffer = Buffer.alloc(0);
  /** Skipping the rest of an oversize frame: octets left (counted) or until LF (-1). */
  private skip: { left: number; frame: Frame } | null = null;

  constructor(private readonly maxBytes: number) {}

  /** Feeds bytes, returns the frames completed by them. */
  push(chunk: Buffer): Frame[] {
    const out: Frame[] = [];
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      if (this.skip) {
        const s = this.skip;
        if (s.left >= 0) {
          const n = Math.min(s.left, this.buf.length);
          s.left -= n;
          s.frame.truncatedFrom = (s.frame.truncatedFrom ?? 0) + n;
          this.buf = this.buf.subarray(n);
          if (s.left > 0) return out;
        } else {
          const end = this.buf.indexOf(LF);
          const n = end < 0 ? this.buf.length : end + 1;
          s.frame.truncatedFrom = (s.frame.truncatedFrom ?? 0) + (end < 0 ? n : end);
          this.buf = this.buf.subarray(n);
          if (end < 0) return out;
        }
        out.push(s.frame);
        this.skip = null;
        continue;
      }
      // Skip blank separators between frames.
      let start = 0;
      while (
        start < this.buf.length &&
        (this.buf[start] === LF || this.buf[start] === 0x0d || this.buf[start] === NUL)
      )
        start++;
      if (start > 0) this.buf = this.buf.subarray(start);
      if (this.buf.length === 0) return out;
      const counted = this.octetCount();
      if (counted === 'wait') return out;
      if (counted) {
        const { len, headerLen } = counted;
        if (len > this.maxBytes) {
          const have = this.buf.length - headerLen;
          if (have < this.maxBytes) return out;
          const frame = {
            text: decode(this.buf.subarray(headerLen, headerLen + this.maxBytes)),
            truncatedFrom: this.maxBytes,
          };
          this.buf = this.buf.subarray(headerLen + this.maxBytes);
          this.skip = { left: len - this.maxBytes, frame };
          continue;
        }
        if (this.buf.length < headerLen + len) return out;
        out.push({
          text: trimTrailer(decode(this.buf.subarray(headerLen, headerLen + len))),
          truncatedFrom: null,
        });
        this.buf = this.buf.subarray(headerLen + len);
        continue;
      }
      let end = -1;
      for (let i = 0; i < this.buf.length && i <= this.maxBytes; i++) {
        if (this.buf[i] === LF || this.buf[i] === NUL) {
          end = i;
          break;
        }
      }
      if (end >= 0) {
        out.push({ text: trimTrailer(decode(this.buf.subarray(0, end))), truncatedFrom: null });
        this.buf = this.buf.subarray(end + 1);
        continue;
      }
      if (this.buf.length <= this.maxBytes) return out;
      const frame = { text: decode(this.buf.subarray(0, this.maxBytes)), truncatedFrom: this.maxBytes };
      this.buf = this.buf.subarray(this.maxBytes);
      this.skip = { left: -1, frame };
    }
  }

  /** At a clean close: whatever is left is the last frame (a sender may omit the final LF). */
  end(): Frame[] {
    const out: Frame[] = [];
    if (this.skip) out.push(this.skip.frame);
    else if (this.buf.length > 0) {
      const text = trimTrailer(decode(this.buf.subarray(0, this.maxBytes)));
      if (text.trim() !== '')
        out.push({ text, truncatedFrom: this.buf.length > this.maxBytes ? this.buf.length : null });
    }
    this.buf = Buffer.alloc(0);
    this.skip = null;
    return out;
  }

  /** `123 ` at the start → the length; 'wait' while the digits may still be incomplete. */
  private octetCount(): { len: number; headerLen: number } | 'wait' | null {
    const b = this.buf;
    if (b[0] < 0x31 || b[0] > 0x39) return null; // a count has no leading zero
    let i = 0;
    while (i < b.length && i < 10 && b[i] >= 0x30 && b[i] <= 0x39) i++;
    if (i === b.length) return i < 10 ? 'wait' : null;
    if (b[i] !== SP) return null;
    return { len: Number(b.subarray(0, i).toString('latin1')), headerLen: i + 1 };
  }
}

export function decode(b: Buffer): string {
  return b.toString('utf8');
}

export function trimTrailer(s: string): string {
  return s.replace(/[\r\n\0]+$/, '');
}
