#!/usr/bin/env node
// Builds the dashboard (web/ → web/dist) when it is missing or older than its sources, so `npm start`
// and the e2e test always serve the current UI. Usage: node scripts/ensure-web.mjs [--force]
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const web = join(root, 'web');
const built = join(web, 'dist', 'index.html');

const newest = (path) => {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
};

const sources = ['src', 'index.html', 'vite.config.ts', 'public'].map((p) => newest(join(web, p)));
const stale = !existsSync(built) || Math.max(...sources) > statSync(built).mtimeMs;
if (process.argv.includes('--force') || stale) {
  console.log('building the dashboard (web/dist)…');
  const vite = join(root, 'node_modules', 'vite', 'bin', 'vite.js');
  const r = spawnSync(process.execPath, [vite, 'build', '--config', join(web, 'vite.config.ts')], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    console.error('the dashboard build failed; fix the error above or run `npm run build:web`');
    process.exit(r.status ?? 1);
  }
}
