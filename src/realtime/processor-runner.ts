/**
 * Runs a RealtimeProcessor on a data dir with the embedded SQLite stream, and reports its
 * progress on stdout as `applied <position> checkpointed <position>`. The crash test runs it
 * as a child process and SIGKILLs it; it is also a handy way to watch the processor alone:
 *
 *   node --import tsx src/realtime/processor-runner.ts --data-dir ./data
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { TOPICS } from '../stream/event-log.js';
import { SqliteEventLog } from '../stream/sqlite-log.js';
import { RealtimeProcessor } from './processor.js';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    'max-batch': { type: 'string', default: '1000' },
    'checkpoint-batches': { type: 'string', default: '20' },
    'checkpoint-ms': { type: 'string', default: '1000' },
  },
});
const dataDir = values['data-dir'];
if (!dataDir) {
  console.error(
    'usage: processor-runner.ts --data-dir DIR [--max-batch N] [--checkpoint-batches N] [--checkpoint-ms MS]',
  );
  process.exit(2);
}

const log = new SqliteEventLog({ dir: join(dataDir, 'stream') });
const processor = new RealtimeProcessor({
  log,
  dataDir,
  maxBatch: Number(values['max-batch']),
  checkpointEveryBatches: Number(values['checkpoint-batches']),
  checkpointIntervalMs: Number(values['checkpoint-ms']),
  onError: (err) => console.error(err.message),
});
await processor.start();

let reported = '';
const report = setInterval(() => {
  const s = processor.status();
  const line = `applied ${s.positions[TOPICS.events]} checkpointed ${s.checkpointed[TOPICS.events]}`;
  if (line !== reported) console.log(line);
  reported = line;
}, 5);

process.once('SIGTERM', async () => {
  clearInterval(report);
  await processor.stop();
  await log.close();
  process.exit(0);
});
