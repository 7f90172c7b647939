import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, configHelp, loadConfig } from './load.js';

const dir = mkdtempSync(join(tmpdir(), 'sp-config-'));

describe('configuration', () => {
  it('defaults to embedded mode, ./data and port 8080', () => {
    const c = loadConfig({ env: {}, cwd: dir });
    assert.equal(c.mode, 'embedded');
    assert.equal(c.dataDir, join(dir, 'data'));
    assert.equal(c.server.port, 8080);
    assert.equal(c.stream.fsync, true);
  });

  it('reads YAML and lets environment variables override it', () => {
    const file = join(dir, 'storepulse.yaml');
    writeFileSync(file, 'server:\n  port: 9000\nlake:\n  flushIntervalMs: 500\n');
    const c = loadConfig({
      env: { STOREPULSE_SERVER__PORT: '9100', STOREPULSE_INGEST__ANONYMIZE_IP: 'false' },
      cwd: dir,
    });
    assert.equal(c.server.port, 9100);
    assert.equal(c.lake.flushIntervalMs, 500);
    assert.equal(c.ingest.anonymizeIp, false);
  });

  it('names the field and the fix when a value is wrong', () => {
    assert.throws(
      () => loadConfig({ env: { STOREPULSE_SERVER__PORT: 'eighty' }, cwd: dir }),
      (e: Error) =>
        e instanceof ConfigError &&
        /server\.port: Expected integer, got "eighty" \(HTTP port\)/.test(e.message),
    );
  });

  it('refuses unknown settings by name', () => {
    const file = join(dir, 'typo.yaml');
    writeFileSync(file, 'server:\n  prot: 9000\n');
    assert.throws(
      () => loadConfig({ file, env: {}, cwd: dir }),
      (e: Error) => /server\.prot: unknown setting/.test(e.message),
    );
  });

  it('says so when the file is not valid YAML or missing', () => {
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, 'server: [\n');
    assert.throws(() => loadConfig({ file, env: {}, cwd: dir }), /not valid YAML/);
    assert.throws(() => loadConfig({ file: join(dir, 'nope.yaml'), env: {}, cwd: dir }), /does not exist/);
  });

  it('lists every setting with its environment variable for --help', () => {
    const help = configHelp();
    assert.match(help, /server\.port\s+STOREPULSE_SERVER__PORT/);
    assert.match(help, /stream\.fsync\s+STOREPULSE_STREAM__FSYNC/);
  });
});
