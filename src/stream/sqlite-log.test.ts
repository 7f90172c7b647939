import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventLogConformance } from './conformance.js';
import { SqliteEventLog } from './sqlite-log.js';

eventLogConformance('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'storepulse-sqlite-log-'));
  const log = new SqliteEventLog({ dir });
  return {
    log,
    cleanup: async () => {
      await log.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
