#!/usr/bin/env node
// Runs every *.test.ts under src/ with node's test runner (Node 20 has no glob support for --test).
// Usage: npm test [-- <substring> ...]   e.g. `npm test -- stream` runs only files whose path contains "stream".
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const filters = process.argv.slice(2);
const walk = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
  );
// Unit tests first: they fail fastest.
const rank = (f) => (f.includes('.e2e.') ? 2 : f.includes('.integration.') ? 1 : 0);
const files = walk('src')
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...files], {
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
