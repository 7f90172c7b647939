import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './server-process.js';

export interface DemoDataDir {
  dataDir: string;
  writeKey: string;
  /** An admin-scope API key. */
  apiKey: string;
}

/**
 * A data dir whose lake holds `days` of the demo store's traffic for site "default", made as a
 * user would (`sites add`, `demo --mode backfill`, `keys create`). A server started on it loads
 * the days into the detection engine's per-minute history on its first start.
 */
export async function demoDataDir(o: { days: number; eventsPerDay: number }): Promise<DemoDataDir> {
  const dataDir = mkdtempSync(join(tmpdir(), 'storepulse-test-'));
  const site = await runCli(['sites', 'add', 'default'], { dataDir });
  assert.equal(site.code, 0, site.stderr);
  const writeKey = /write key: (\S+)/.exec(site.stdout)?.[1] ?? '';
  const backfill = await runCli(
    [
      'demo',
      '--mode',
      'backfill',
      '--site',
      'default',
      '--days',
      String(o.days),
      '--events-per-day',
      String(o.eventsPerDay),
    ],
    { dataDir },
  );
  assert.equal(backfill.code, 0, backfill.stderr);
  const key = await runCli(['keys', 'create', 'tests', '--scope', 'admin'], { dataDir });
  assert.equal(key.code, 0, key.stderr);
  const apiKey = key.stdout.trim().split('\n').at(-1) ?? '';
  assert.ok(writeKey && apiKey.startsWith('sp_key_'), `${site.stdout}\n${key.stdout}`);
  return { dataDir, writeKey, apiKey };
}
