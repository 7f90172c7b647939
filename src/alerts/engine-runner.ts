/**
 * Runs a DetectionEngine on a data dir with the embedded SQLite stream and reports progress on
 * stdout as `applied <position> checkpointed <position>`; evaluations with signals go to
 * `--evaluations <file>` as JSON lines. The restart test SIGKILLs it; it is also a way to
 * watch the detectors alone on a data dir:
 *
 *   node --import tsx src/alerts/engine-runner.ts --data-dir ./data --evaluations /tmp/evals.jsonl
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SqliteEventLog } from '../stream/sqlite-log.js';
import { DetectionEngine } from './engine.js';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    evaluations: { type: 'string' },
    now: { type: 'string' },
    'history-days': { type: 'string', default: '35' },
    'max-batch': { type: 'string', default: '1000' },
    'checkpoint-ms': { type: 'string', default: '1000' },
    'idle-advance-ms': { type: 'string', default: '5000' },
    'anonymized-ips': { type: 'string', default: 'true' },
  },
});
const dataDir = values['data-dir'];
if (!dataDir) {
  console.error(
    'usage: engine-runner.ts --data-dir DIR [--evaluations FILE] [--now MS] [--history-days N] [--max-batch N] [--checkpoint-ms MS] [--idle-advance-ms MS] [--anonymized-ips true|false]',
  );
  process.exit(2);
}
const fixedNow = values.now === undefined ? null : Number(values.now);
const log = new SqliteEventLog({ dir: join(dataDir, 'stream') });
const engine = new DetectionEngine({
  log,
  dataDir,
  historyDays: Number(values['history-days']),
  maxBatch: Number(values['max-batch']),
  checkpointIntervalMs: Number(values['checkpoint-ms']),
  idleAdvanceMs: Number(values['idle-advance-ms']),
  anonymizedIps: values['anonymized-ips'] !== 'false',
  now: fixedNow === null ? Date.now : () => fixedNow,
  onEvaluation: (e) => {
    if (values.evaluations && e.signals.length > 0)
      appendFileSync(values.evaluations, `${JSON.stringify(e)}\n`);
  },
  onError: (err) => console.error(err.message),
});
await engine.start();

let reported = '';
const report = setInterval(() => {
  const s = engine.status();
  const line = `applied ${s.position} checkpointed ${s.checkpointed}`;
  if (line !== reported) console.log(line);
  reported = line;
}, 5);

process.once('SIGTERM', async () => {
  clearInterval(report);
  await engine.stop();
  await log.close();
  const s = engine.status();
  console.log(`applied ${s.position} checkpointed ${s.checkpointed}`);
  process.exit(0);
});
