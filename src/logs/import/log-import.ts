import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { LAKE_TABLES } from '../../lake/lake.js';
import { LakeWriter } from '../../lake/writer.js';
import { LogIndex, logsIndexDir } from '../index/log-index.js';
import type { LogRecord } from '../log-record.js';
import { compilePathPatterns, createLineParser, type LogFormat } from '../parse/line-parser.js';

export interface LogImportOptions {
  dataDir: string;
  siteId: string;
  format: LogFormat;
  anonymizeIp: boolean;
  pathPatterns: string[];
  batch?: number;
  onProgress?: (fraction: number) => void;
}

export interface LogImportSummary {
  file: string;
  lines: number;
  indexed: number;
  unparsed: number;
  filesWritten: number;
  elapsedMs: number;
  reasons: { reason: string; count: number }[];
}

/**
 * History into the logs lake table and the full-text index, without the stream (like the
 * events import). Each batch is tagged by the file's identity and its number: importing the
 * same file again adds nothing, to the index (tag recorded per day file) or to the lake (same
 * Parquet names, rewritten).
 */
export async function importLogFile(file: string, o: LogImportOptions): Promise<LogImportSummary> {
  const started = Date.now();
  const path = resolve(file);
  const st = statSync(path);
  const tag = createHash('sha256').update(`${path}\0${st.size}\0${st.mtimeMs}`).digest('hex').slice(0, 16);
  const parser = createLineParser(o.format, {
    anonymizeIp: o.anonymizeIp,
    pathPatterns: compilePathPatterns(o.pathPatterns),
  });
  const index = new LogIndex(logsIndexDir(o.dataDir));
  const writer = await LakeWriter.open(o.dataDir);
  // Opened last: readline reads from the start, and lines read before iteration begins are lost.
  const input = createReadStream(path);
  const lines = createInterface({
    input: path.endsWith('.gz') ? input.pipe(createGunzip()) : input,
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  const source = basename(path).replace(/\.gz$/, '');
  const reasons = new Map<string, number>();
  const summary: LogImportSummary = {
    file: path,
    lines: 0,
    indexed: 0,
    unparsed: 0,
    filesWritten: 0,
    elapsedMs: 0,
    reasons: [],
  };
  let batch: LogRecord[] = [];
  let n = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const batchTag = `${tag}-${n++}`;
    summary.indexed += index.applyImport(batchTag, batch);
    const json = batch.map((r) => JSON.stringify(r));
    summary.filesWritten += (await writer.write(LAKE_TABLES.logs, json, `import-${batchTag}.parquet`)).length;
    batch = [];
    o.onProgress?.(Math.min(1, input.bytesRead / Math.max(1, st.size)));
  };
  try {
    const receivedAt = Date.now();
    for await (const line of lines) {
      if (line.trim() === '') continue;
      summary.lines++;
      const r = parser.line(line, { siteId: o.siteId, source, receivedAt });
      if (r.parse_error) {
        summary.unparsed++;
        reasons.set(r.parse_error, (reasons.get(r.parse_error) ?? 0) + 1);
      }
      batch.push(r);
      if (batch.length >= (o.batch ?? 20_000)) await flush();
    }
    await flush();
  } finally {
    index.close();
    writer.close();
  }
  summary.reasons = [...reasons]
    .map(([reason, count]) => ({ reason, count }))
    .sort((a, b) => b.count - a.count);
  summary.elapsedMs = Date.now() - started;
  return summary;
}
