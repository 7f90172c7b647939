import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';

/** Debian's Chromium, never a downloaded browser. */
export const CHROMIUM = '/usr/bin/chromium';

export const chromiumMissing = (): string | false =>
  existsSync(CHROMIUM)
    ? false
    : `${CHROMIUM} is missing (Debian: apt-get install chromium); skipping browser tests`;

/** Headless Chromium with the flags this machine needs (no background network, no sandbox as root). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-quic',
      '--no-first-run',
      '--disable-sync',
    ],
  });
}

const ROOT = new URL('../../', import.meta.url);

/** Builds the dashboard (web/dist) if it is missing or older than its sources; fails the test if the build fails. */
export function ensureDashboardBuilt(): void {
  const r = spawnSync(process.execPath, [fileURLToPath(new URL('scripts/ensure-web.mjs', ROOT))], {
    cwd: fileURLToPath(ROOT),
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, `dashboard build failed:\n${r.stdout}\n${r.stderr}`);
}
