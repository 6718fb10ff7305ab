#!/usr/bin/env node
// Compiles src/ to dist/ (the `prepare` script) unless dist/ was compiled from the same sources by
// the same TypeScript; `--force` compiles anyway. tsc writes into a staging folder and each file is
// then renamed into dist/, so a scalelab process starting meanwhile never reads a half-written module.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fingerprint, readStamp, writeStamp } from './fingerprint.mjs';

/** What dist/ is compiled from: tsconfig.json, src/ and the compiler's version. */
export function sourcesFingerprint(root, facts) {
  return fingerprint(root, ['tsconfig.json', 'src'], facts);
}

/** The version of the TypeScript that compiles dist/. */
export function compilerFacts() {
  const require = createRequire(import.meta.url);
  return { typescript: require('typescript/package.json').version };
}

/** Runs this project's tsc with its tsconfig, writing to `outDir`. */
export function runTsc(root, outDir) {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.json'), '--outDir', outDir], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`tsc failed (${signal ?? `exit code ${code}`})`))));
  });
}

/** Renames every file under `from` to the same place under `to`, making folders as needed. */
function moveFiles(from, to) {
  for (const name of fs.readdirSync(from)) {
    const src = path.join(from, name);
    const dest = path.join(to, name);
    if (fs.statSync(src).isDirectory()) {
      fs.mkdirSync(dest, { recursive: true });
      moveFiles(src, dest);
    } else {
      fs.renameSync(src, dest);
    }
  }
}

/**
 * Makes dist/ match src/: 'up-to-date' when it already does (nothing is touched), 'built' after
 * compiling with `compile(root, stagingDir)` and renaming each output into dist/. A failed compile
 * leaves dist/ as it was.
 */
export async function ensureCompiled({ root, force = false, facts = compilerFacts(), compile = runTsc, log = console.log }) {
  const dist = path.join(root, 'dist');
  const stamp = path.join(dist, '.fingerprint');
  const wanted = sourcesFingerprint(root, facts);
  if (!force && fs.existsSync(path.join(dist, 'index.js')) && readStamp(stamp) === wanted) {
    log('scalelab: dist/ is up to date with src/; npm run build recompiles it');
    return 'up-to-date';
  }
  fs.mkdirSync(dist, { recursive: true });
  // Beside dist/, not in it: source maps refer to src/ by a path relative to where tsc wrote them.
  const staging = fs.mkdtempSync(path.join(root, 'dist-staging-'));
  try {
    await compile(root, staging);
    moveFiles(staging, dist);
    // The fingerprint taken before compiling: if src/ changed meanwhile, the next run compiles again.
    writeStamp(stamp, wanted);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return 'built';
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  ensureCompiled({ root, force: process.argv.includes('--force') }).catch((err) => {
    console.error(`scalelab: compiling TypeScript failed: ${err.message}`);
    process.exit(1);
  });
}
