#!/usr/bin/env node
// Builds the native addon (native/) unless the one in place was built from the same sources for
// the same Node ABI; `--force` rebuilds anyway. The build runs in a staging folder and its result
// is renamed over native/build/Release/scalelab_native.node, so a scalelab process starting during
// a build finds the old addon or the new one, never none: `node-gyp rebuild` in place deletes
// native/build first, for the whole of a build that takes a minute.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fingerprint, readStamp, writeStamp } from './fingerprint.mjs';

const ADDON = 'build/Release/scalelab_native.node';

/** What besides its sources decides the addon: node-addon-api's version and this Node's ABI. */
export function toolchainFacts() {
  const { versions, platform, arch } = process;
  const nodeAddonApi = createRequire(import.meta.url)('node-addon-api').version;
  return { nodeAddonApi, napi: versions.napi, modules: versions.modules, platform, arch };
}

/** What the addon is built from: binding.gyp, the sources and the toolchain facts. */
export function nativeFingerprint(nativeDir, facts) {
  return fingerprint(nativeDir, ['binding.gyp', 'src'], facts);
}

/** Runs node-gyp (npm puts its own on PATH for package scripts) in `dir`. */
export function nodeGypRebuild(dir) {
  return new Promise((resolve, reject) => {
    const child = spawn('node-gyp', ['rebuild', '--directory', dir], { stdio: 'inherit' });
    child.on('error', (err) => reject(new Error(`cannot run node-gyp (${err.message}); build through npm: npm run build:native`)));
    child.on('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`node-gyp failed (${signal ?? `exit code ${code}`})`))));
  });
}

/**
 * Makes native/build/Release/scalelab_native.node match native/'s sources: 'up-to-date' when it
 * already does (nothing is touched), 'built' after building a copy of the sources in a staging
 * folder with `build` and renaming the addon into place. A failed build leaves the old addon.
 */
export async function ensureNative({ nativeDir, force = false, facts = toolchainFacts(), build = nodeGypRebuild, log = console.log }) {
  const addon = path.join(nativeDir, ADDON);
  const stamp = `${addon}.fingerprint`;
  if (!force && fs.existsSync(addon) && readStamp(stamp) === nativeFingerprint(nativeDir, facts)) {
    log(`scalelab: the native addon is up to date (${path.relative(process.cwd(), addon) || addon}); npm run build:native rebuilds it`);
    return 'up-to-date';
  }
  fs.mkdirSync(path.dirname(addon), { recursive: true });
  const staging = fs.mkdtempSync(path.join(nativeDir, 'build', 'staging-'));
  try {
    fs.cpSync(path.join(nativeDir, 'binding.gyp'), path.join(staging, 'binding.gyp'));
    fs.cpSync(path.join(nativeDir, 'src'), path.join(staging, 'src'), { recursive: true });
    // The fingerprint of the copy: what was built, even if native/ changes meanwhile.
    const built = nativeFingerprint(staging, facts);
    await build(staging);
    fs.renameSync(path.join(staging, ADDON), addon);
    writeStamp(stamp, built);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return 'built';
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const nativeDir = fileURLToPath(new URL('../native', import.meta.url));
  ensureNative({ nativeDir, force: process.argv.includes('--force') }).catch((err) => {
    console.error(`scalelab: building the native addon failed: ${err.message}`);
    process.exit(1);
  });
}
