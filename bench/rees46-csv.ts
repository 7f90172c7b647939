import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_TMP, ROOT } from './lib.js';

/**
 * A large REES46-format CSV for the import benchmark: the 1,000 real rows of
 * shared/data/rees46_sample.csv repeated with their times shifted by 17 minutes per copy
 * (the sample spans 00:00–00:17), so 2.1 M rows cover ~25 days / ~600 hourly partitions,
 * close to a real REES46 month (744). Cached under BENCH_TMP by row count.
 */
const GENERATOR_VERSION = 1;
const SHIFT_MS = 17 * 60_000;

export function samplePath(): string {
  for (const p of [
    join(ROOT, '..', 'shared', 'data', 'rees46_sample.csv'),
    '/work/shared/data/rees46_sample.csv',
  ]) {
    if (existsSync(p)) return p;
  }
  throw new Error('shared/data/rees46_sample.csv not found (looked beside the repo and in /work/shared)');
}

export function ensureRees46Csv(rows: number): string {
  mkdirSync(BENCH_TMP, { recursive: true });
  const file = join(BENCH_TMP, `rees46-v${GENERATOR_VERSION}-${rows}.csv`);
  if (existsSync(file)) return file;

  const [header, ...lines] = readFileSync(samplePath(), 'utf8').trimEnd().split('\n');
  const sample = lines.map((line) => {
    const comma = line.indexOf(',');
    const t = Date.parse(`${line.slice(0, 19).replace(' ', 'T')}Z`);
    if (!Number.isFinite(t)) throw new Error(`unexpected time in sample row: ${line}`);
    return { t, rest: line.slice(comma) };
  });

  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  let chunk = `${header}\n`;
  for (let i = 0; i < rows; i++) {
    const copy = Math.floor(i / sample.length);
    const s = sample[i % sample.length];
    const iso = new Date(s.t + copy * SHIFT_MS).toISOString();
    chunk += `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC${s.rest}\n`;
    if (chunk.length > 1 << 20) {
      writeSync(fd, chunk);
      chunk = '';
    }
  }
  writeSync(fd, chunk);
  closeSync(fd);
  renameSync(tmp, file);
  return file;
}
