import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { type AddressInfo, BlockList, createServer, isIP, type Server, type Socket } from 'node:net';
import { Counter, type Registry } from 'prom-client';
import type { LogRecord } from '../log-record.js';
import { buildRecord, type EnrichOptions, rawParser } from '../parse/line-parser.js';
import { decode, type Frame, SyslogFramer, trimTrailer } from './syslog-framing.js';
import { parseSyslog, syslogFields } from './syslog-message.js';

/**
 * Syslog listeners (RFC 5424 and RFC 3164; UDP, and TCP with RFC 6587 octet counting or
 * newline framing). Syslog carries no credential, so a peer is accepted only from
 * `allowNetworks`, and the default bind address is loopback. Each frame becomes one log
 * record (a frame that is not syslog is kept with `parse_error`), and records count as
 * received only once `append` (the durable stream) resolved.
 */

export interface SyslogOptions {
  host: string;
  /** 0: no UDP listener. */
  udpPort: number;
  /** 0: no TCP listener. */
  tcpPort: number;
  siteId: string;
  source: string;
  allowNetworks: string[];
  maxMessageBytes: number;
  enrich: EnrichOptions;
  append: (records: LogRecord[]) => Promise<unknown>;
  registry?: Registry;
  onError?: (err: Error) => void;
  onRefused?: (transport: 'udp' | 'tcp', address: string, reason: 'network' | 'connections') => void;
  /** Open TCP connections at most; further ones are closed at once (default 256). */
  maxConnections?: number;
  /** How long stop() waits for a failing stream before giving up the messages it holds (default 10 s). */
  stopTimeoutMs?: number;
}

export interface SyslogListener {
  /** The bound ports (useful with port 0 in tests): null when that transport is off. */
  udpPort: number | null;
  tcpPort: number | null;
  /** Stops accepting, reads what open connections already sent, and waits until it is durable. */
  stop(): Promise<void>;
}

/** CIDR list → BlockList used as an allow list; names the bad entry. */
export function allowList(networks: string[]): BlockList {
  const list = new BlockList();
  for (const [i, cidr] of networks.entries()) {
    const [addr, bits] = cidr.split('/');
    const family = isIP(addr);
    const max = family === 6 ? 128 : 32;
    const prefix = bits === undefined ? max : Number(bits);
    if (family === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > max)
      throw new Error(`logs.syslog.allowNetworks[${i}] "${cidr}" is not an IPv4 or IPv6 CIDR range`);
    list.addSubnet(addr, prefix, family === 6 ? 'ipv6' : 'ipv4');
  }
  return list;
}

function allowed(list: BlockList, address: string): boolean {
  // A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const a = mapped ? mapped[1] : address;
  const family = isIP(a);
  return family !== 0 && list.check(a, family === 6 ? 'ipv6' : 'ipv4');
}

/** Frame → record: syslog header fields, with the MSG parsed as an access/JSON/kv line when it is one. */
export function syslogRecord(
  frame: Frame,
  ctx: { siteId: string; source: string; receivedAt: number },
  enrich: EnrichOptions,
): LogRecord {
  const parsed = parseSyslog(frame.text, ctx.receivedAt);
  let record: LogRecord;
  if (parsed.ok) {
    let msg = parsed.msg;
    let inner = msg.message.trim() === '' ? null : autoParse(msg.message);
    if (!inner && msg.colonlessTag) {
      const retry = autoParse(msg.colonlessTag.message);
      if (retry) {
        msg = { ...msg, ...msg.colonlessTag };
        inner = retry;
      }
    }
    record = buildRecord(syslogFields(msg, inner), frame.text, ctx, enrich);
  } else record = buildRecord({ ok: false, reason: parsed.reason }, frame.text, ctx, enrich);
  if (frame.truncatedFrom !== null) {
    const fields = record.fields ? (JSON.parse(record.fields) as Record<string, unknown>) : {};
    fields.truncated = { kept_bytes: Buffer.byteLength(frame.text), sent_bytes: frame.truncatedFrom };
    record.fields = JSON.stringify(fields);
    // A cut frame is searchable as such (parse_error:truncated) even when its start parsed.
    record.parse_error = `${record.parse_error ? `${record.parse_error}; ` : ''}truncated: frame of ${frame.truncatedFrom} bytes cut to ${Buffer.byteLength(frame.text)}`;
  }
  return record;
}

const auto = rawParser('auto');
function autoParse(message: string) {
  const r = auto(message);
  return r.ok ? r : null;
}

/**
 * Collects records and appends them as a group commit: while one append is waiting for the
 * stream, the next records gather and go in the following append, so batches grow with load.
 */
class Batcher {
  private pending: { transport: string; record: LogRecord }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  /** Records taken but not yet durable. */
  private inflight = 0;
  /** Set at shutdown when the stream kept failing: the retry loop stops. */
  private abandoned = false;
  private wake: (() => void) | null = null;

  constructor(
    private readonly append: (r: LogRecord[]) => Promise<unknown>,
    private readonly received: Counter<string>,
    private readonly onError: (err: Error) => void,
  ) {}

  get backlog(): number {
    return this.pending.length + this.inflight;
  }

  /** Shutdown with the stream still failing: stop retrying, and say how many records are given up. */
  abandon(): number {
    const lost = this.backlog;
    this.abandoned = true;
    this.wake?.();
    return lost;
  }

  add(transport: string, record: LogRecord): void {
    this.pending.push({ transport, record });
    // A short wait lets a burst of datagrams share one append.
    if (!this.running) this.timer ??= setTimeout(() => void this.flush(), 10);
  }

  /** Resolves when every record taken so far is durable. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.running ??= this.drain().finally(() => {
      this.running = null;
      if (this.pending.length > 0) this.timer ??= setTimeout(() => void this.flush(), 10);
    });
    return this.running;
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, 20_000);
      this.inflight = batch.length;
      // Syslog has no acknowledgement: an outage of the stream must not lose the batch, so retry
      // (until shutdown gives up: abandon()).
      for (let attempt = 0; ; attempt++) {
        try {
          await this.append(batch.map((b) => b.record));
          break;
        } catch (err) {
          this.onError(err as Error);
          if (this.abandoned) {
            this.pending = [];
            this.inflight = 0;
            return;
          }
          await new Promise<void>((r) => {
            const t = setTimeout(r, Math.min(5000, 100 * 2 ** attempt));
            this.wake = () => {
              clearTimeout(t);
              r();
            };
          });
          this.wake = null;
        }
      }
      this.inflight = 0;
      const counts = new Map<string, number>();
      for (const { transport, record } of batch) {
        const k = `${transport}\0${record.parse_error ? 'unparsed' : 'parsed'}`;
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      for (const [k, n] of counts) {
        const [transport, result] = k.split('\0');
        this.received.inc({ transport, result }, n);
      }
    }
  }
}

function counters(registry: Registry | undefined) {
  const registers = registry ? [registry] : [];
  return {
    received: new Counter({
      name: 'storepulse_syslog_messages_total',
      help: 'Syslog messages durable in the stream (result: parsed, unparsed)',
      labelNames: ['transport', 'result'],
      registers,
    }),
    refused: new Counter({
      name: 'storepulse_syslog_refused_total',
      help: 'Syslog datagrams and connections refused (reason: network = the peer is outside logs.syslog.allowNetworks, connections = logs.syslog.maxConnections reached)',
      labelNames: ['transport', 'reason'],
      registers,
    }),
    truncated: new Counter({
      name: 'storepulse_syslog_truncated_total',
      help: 'Syslog frames cut to logs.syslog.maxMessageBytes',
      labelNames: ['transport'],
      registers,
    }),
  };
}

export async function startSyslog(o: SyslogOptions): Promise<SyslogListener> {
  const allow = allowList(o.allowNetworks);
  const metrics = counters(o.registry);
  const onError = o.onError ?? (() => {});
  const batcher = new Batcher(o.append, metrics.received, onError);
  // A refused peer is reported once a minute, not once per datagram.
  const reported = new Map<string, number>();
  const refuse = (
    transport: 'udp' | 'tcp',
    address: string,
    reason: 'network' | 'connections' = 'network',
  ) => {
    metrics.refused.inc({ transport, reason });
    const now = Date.now();
    const key = `${reason}\0${address}`;
    if ((reported.get(key) ?? 0) > now - 60_000) return;
    if (reported.size > 10_000) reported.clear();
    reported.set(key, now);
    o.onRefused?.(transport, address, reason);
  };
  const ctx = () => ({ siteId: o.siteId, source: o.source, receivedAt: Date.now() });
  const take = (transport: 'udp' | 'tcp', frame: Frame) => {
    if (frame.truncatedFrom !== null) metrics.truncated.inc({ transport });
    try {
      batcher.add(transport, syslogRecord(frame, ctx(), o.enrich));
    } catch (err) {
      // A bug in parsing must not lose the frame: keep it unparsed with the error.
      onError(err as Error);
      batcher.add(
        transport,
        buildRecord(
          { ok: false, reason: `syslog parser failed: ${(err as Error).message}` },
          frame.text,
          ctx(),
          o.enrich,
        ),
      );
    }
  };

  let udp: UdpSocket | null = null;
  if (o.udpPort > 0) {
    udp = createSocket({ type: isIP(o.host) === 6 ? 'udp6' : 'udp4', recvBufferSize: 4 * 1024 * 1024 });
    udp.on('message', (buf, rinfo) => {
      if (!allowed(allow, rinfo.address)) {
        refuse('udp', rinfo.address);
        return;
      }
      const cut = buf.length > o.maxMessageBytes;
      const text = trimTrailer(decode(cut ? buf.subarray(0, o.maxMessageBytes) : buf));
      if (text.trim() === '') return;
      take('udp', { text, truncatedFrom: cut ? buf.length : null });
    });
    udp.on('error', onError);
    const u = udp;
    await new Promise<void>((resolve, reject) => {
      u.once('error', reject);
      u.bind(o.udpPort, o.host, () => {
        u.off('error', reject);
        resolve();
      });
    });
  }

  let tcp: Server | null = null;
  const sockets = new Set<Socket>();
  const closing = new Set<Promise<void>>();
  if (o.tcpPort > 0) {
    tcp = createServer((socket) => {
      const peer = socket.remoteAddress ?? '';
      if (!allowed(allow, peer)) {
        refuse('tcp', peer);
        socket.destroy();
        return;
      }
      if (sockets.size >= (o.maxConnections ?? 256)) {
        refuse('tcp', peer, 'connections');
        socket.destroy();
        return;
      }
      sockets.add(socket);
      const framer = new SyslogFramer(o.maxMessageBytes);
      socket.on('data', (chunk: Buffer) => {
        for (const f of framer.push(chunk)) take('tcp', f);
        // Back-pressure: stop reading while the stream is far behind.
        if (batcher.backlog > 50_000) {
          socket.pause();
          void batcher.flush().then(() => socket.resume());
        }
      });
      let done: () => void;
      const closed = new Promise<void>((r) => (done = r));
      closing.add(closed);
      const finish = () => {
        for (const f of framer.end()) take('tcp', f);
        sockets.delete(socket);
        void batcher.flush().then(() => {
          closing.delete(closed);
          done();
        });
      };
      // A clean close (FIN) ends the last frame even without a trailing newline.
      socket.on('end', () => {
        finish();
        socket.end();
      });
      socket.on('error', (err) => {
        onError(err);
      });
      socket.on('close', () => {
        if (sockets.has(socket)) finish();
      });
    });
    tcp.on('error', onError);
    const t = tcp;
    await new Promise<void>((resolve, reject) => {
      t.once('error', reject);
      t.listen(o.tcpPort, o.host, () => {
        t.off('error', reject);
        resolve();
      });
    });
  }

  return {
    udpPort: udp ? udp.address().port : null,
    tcpPort: tcp ? (tcp.address() as AddressInfo).port : null,
    async stop() {
      await new Promise<void>((r) => (udp ? udp.close(() => r()) : r()));
      const serverClosed = new Promise<void>((r) => (tcp ? tcp.close(() => r()) : r()));
      // Open connections: take what they already sent, then close them.
      for (const s of sockets) s.end();
      await Promise.race([Promise.all(closing), new Promise((r) => setTimeout(r, 2000))]);
      for (const s of sockets) s.destroy();
      await serverClosed;
      // What was taken is written, unless the stream keeps failing: then shutdown does not hang.
      const flushed = batcher.flush();
      let timer: NodeJS.Timeout | undefined;
      const late = await Promise.race([
        flushed.then(() => false),
        new Promise<boolean>((r) => {
          timer = setTimeout(() => r(true), o.stopTimeoutMs ?? 10_000);
        }),
      ]);
      clearTimeout(timer);
      if (late) {
        const lost = batcher.abandon();
        await flushed;
        onError(
          new Error(
            `${lost} syslog message${lost === 1 ? ' was' : 's were'} not written before shutdown: the stream kept failing (errors above)`,
          ),
        );
      }
    },
  };
}
