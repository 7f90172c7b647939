import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { importRees46 } from '../src/import/rees46-import.js';
import { sqlString } from '../src/lake/writer.js';
import { runCli } from '../src/testing/server-process.js';
import { BENCH_TMP, type Bench, type BenchOptions, fmt, median, rmrf, scratchDir } from './lib.js';
import { ensureRees46Csv } from './rees46-csv.js';

/**
 * (d) REES46 CSV import rows/s: `importRees46` (the code behind `storepulse import`, called
 * in-process) into a fresh data dir, against DuckDB's own
 * `COPY (SELECT * FROM read_csv(file)) TO 'x.parquet'` (auto-detected types, one file, snappy)
 * through @duckdb/node-api in the same process, both with 2 threads, alternating per run. The
 * CSV comes from the demo store (src/demo demoCsv, seeded, ~42k rows per hour like the real
 * 2019-Oct.csv), cached in BENCH_TMP; both read it from the page cache.
 */
const ROWS = 2_100_000;
const QUICK_ROWS = 500_000;
const SEED = 42;

async function ensureCsv(rows: number, log: (m: string) => void): Promise<{ file: string; source: string }> {
  mkdirSync(BENCH_TMP, { recursive: true });
  const file = join(BENCH_TMP, `demo-rees46-seed${SEED}-${rows}.csv`);
  if (existsSync(file)) return { file, source: 'src/demo demoCsv (cached)' };
  try {
    const { demoCsv } = (await import('../src/demo/run.js')) as {
      demoCsv?: (o: { out: string; rows: number; seed: number }) => Promise<unknown>;
    };
    if (!demoCsv) throw new Error('src/demo/run.ts has no demoCsv');
    log(`  generating ${fmt(rows)} rows with demoCsv…`);
    const tmp = `${file}.${process.pid}.tmp.csv`;
    await demoCsv({ out: tmp, rows, seed: SEED });
    const { renameSync } = await import('node:fs');
    renameSync(tmp, file);
    return { file, source: 'src/demo demoCsv' };
  } catch (err) {
    log(`  demoCsv unavailable (${(err as Error).message}); repeating the shared REES46 sample instead`);
    return { file: ensureRees46Csv(rows), source: 'shared rees46_sample.csv repeated with shifted times' };
  }
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return n;
}

export const importBench: Bench = {
  id: 'd',
  title: 'REES46 CSV import vs DuckDB read_csv → Parquet',
  async run(o: BenchOptions) {
    const rows = o.quick ? QUICK_ROWS : ROWS;
    const reps = o.quick ? 1 : 3;
    const { file, source } = await ensureCsv(rows, o.log);
    readFileSync(file); // into the page cache, for both
    const dir = scratchDir('import');
    const db = await DuckDBInstance.create(':memory:', { threads: '2' });
    const conn = await db.connect();
    const value: number[] = [];
    const baseline: number[] = [];
    const ratios: number[] = [];
    const notes: string[] = [];
    let ourBytes = 0;
    let baseBytes = 0;
    let files = 0;
    try {
      const baseRun = async () => {
        const out = join(dir, 'duckdb.parquet');
        const t = performance.now();
        await conn.run(
          `COPY (SELECT * FROM read_csv(${sqlString(file)})) TO ${sqlString(out)} (FORMAT parquet)`,
        );
        const ms = performance.now() - t;
        baseBytes = statSync(out).size;
        rmrf(out);
        return rows / (ms / 1000);
      };
      const ourRun = async (rep: number) => {
        const dataDir = join(dir, `data-${rep}`);
        const t = performance.now();
        const s = await importRees46(file, { dataDir, siteId: 'bench', maxFutureMs: 600_000 });
        const ms = performance.now() - t;
        if (s.loaded !== rows || s.rejected !== 0)
          throw new Error(`import loaded ${s.loaded} and rejected ${s.rejected} of ${rows} rows`);
        ourBytes = dirBytes(join(dataDir, 'lake', 'events'));
        files = s.filesWritten;
        rmrf(dataDir);
        return rows / (ms / 1000);
      };
      for (let rep = 0; rep < reps; rep++) {
        // Alternate which goes first, so neither always gets the cooler machine.
        let ours: number;
        let base: number;
        if (rep % 2 === 0) {
          base = await baseRun();
          ours = await ourRun(rep);
        } else {
          ours = await ourRun(rep);
          base = await baseRun();
        }
        value.push(ours);
        baseline.push(base);
        ratios.push(ours / base);
        o.log(
          `  rep ${rep + 1}: import ${fmt(ours)} rows/s, DuckDB ${fmt(base)} rows/s (${(ours / base).toFixed(2)})`,
        );
      }
      notes.push(
        `${fmt(rows)} rows (${fmt(statSync(file).size / 2 ** 20)} MiB) from ${source}; ${reps} run(s); output ${files} Parquet files, ${fmt(ourBytes / 2 ** 20, 1)} MiB (37 canonical columns, Hive dt/hour) vs DuckDB's ${fmt(baseBytes / 2 ** 20, 1)} MiB (9 columns, one file)`,
      );
      if (!o.quick) {
        // The whole CLI once, for the record: tsx start-up, config, progress bar.
        const dataDir = join(dir, 'cli');
        const t = performance.now();
        const r = await runCli(['import', file, '--no-progress'], { dataDir });
        const ms = performance.now() - t;
        if (r.code !== 0) throw new Error(`storepulse import failed: ${r.stderr}`);
        notes.push(
          `whole CLI once (\`storepulse import\`, node + tsx start-up included): ${fmt(ms / 1000, 1)} s = ${fmt(rows / (ms / 1000))} rows/s`,
        );
        rmrf(dataDir);
      }
    } finally {
      conn.closeSync();
      db.closeSync();
      rmrf(dir);
    }
    const ratio = median(ratios);
    return {
      id: 'd',
      name: 'REES46 CSV import',
      unit: 'rows/s',
      value: median(value),
      baselineName: 'DuckDB COPY read_csv → one Parquet file',
      baseline: median(baseline),
      ratio,
      goal: '≥ 0.8 × DuckDB',
      pass: ratio >= 0.8,
      samples: { value, baseline },
      notes,
    };
  },
};
