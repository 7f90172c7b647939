#!/usr/bin/env node
// Assembles src/recs/als-kernel.wat into src/recs/als-kernel-wasm.ts (the bytes as base64, so the
// kernel loads the same way under tsx, from a build, and in worker threads). `--check` exits 1
// when the committed file is not what the .wat assembles to.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

if (process.argv.includes('--help')) {
  console.log(
    'usage: node scripts/build-kernel.mjs [--check]\n  assembles src/recs/als-kernel.wat into src/recs/als-kernel-wasm.ts',
  );
  process.exit(0);
}
const wat = fileURLToPath(new URL('../src/recs/als-kernel.wat', import.meta.url));
const out = fileURLToPath(new URL('../src/recs/als-kernel-wasm.ts', import.meta.url));

const FEATURES = { simd: true, threads: true };

export async function assemble(text) {
  const wabt = await wabtInit();
  const mod = wabt.parseWat('als-kernel.wat', text, FEATURES);
  try {
    mod.validate(FEATURES);
    return Buffer.from(mod.toBinary({}).buffer);
  } finally {
    mod.destroy();
  }
}

export function render(bytes) {
  const b64 = bytes.toString('base64');
  const lines = b64.match(/.{1,96}/g) ?? [];
  return `// Generated from als-kernel.wat by \`npm run build:kernel\`; do not edit.\nexport const ALS_KERNEL_WASM =\n${lines.map((l) => `  '${l}'`).join(' +\n')};\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = render(await assemble(readFileSync(wat, 'utf8')));
  if (process.argv.includes('--check')) {
    const same = readFileSync(out, 'utf8') === text;
    if (!same) console.error('src/recs/als-kernel-wasm.ts is stale: run npm run build:kernel');
    process.exit(same ? 0 : 1);
  }
  writeFileSync(out, text);
  console.log(`wrote ${out}`);
}
