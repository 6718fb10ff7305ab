// The install and prepare scripts: they skip a build whose inputs have not changed (npx installs
// the checkout into its cache and runs both), and a build replaces its output by renaming, so a
// scalelab process starting meanwhile never finds the addon or a module missing.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error plain JavaScript scripts (they run before TypeScript is compiled)
import { ensureNative, nativeFingerprint } from '../scripts/build-native.mjs';
// @ts-expect-error plain JavaScript scripts
import { ensureCompiled } from '../scripts/build-ts.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const facts = { nodeAddonApi: '8.0.0', napi: '9', modules: '115', platform: 'linux', arch: 'x64' };
const quiet = () => {};

let dir: string;
beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-build-')); });
afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

/** A native/ folder with a binding.gyp and one source file. */
function nativeFolder(source = 'int f() { return 1; }'): string {
  const nativeDir = path.join(dir, 'native');
  fs.mkdirSync(path.join(nativeDir, 'src'), { recursive: true });
  fs.writeFileSync(path.join(nativeDir, 'binding.gyp'), '{"targets": []}');
  fs.writeFileSync(path.join(nativeDir, 'src', 'addon.cc'), source);
  return nativeDir;
}

/** A stand-in for node-gyp: the "addon" it builds is the staged source, and it counts its calls. */
function fakeBuild() {
  const calls: string[] = [];
  const build = async (staging: string) => {
    calls.push(staging);
    const out = path.join(staging, 'build', 'Release');
    fs.mkdirSync(out, { recursive: true });
    fs.copyFileSync(path.join(staging, 'src', 'addon.cc'), path.join(out, 'scalelab_native.node'));
  };
  return { calls, build };
}

const addonOf = (nativeDir: string) => path.join(nativeDir, 'build', 'Release', 'scalelab_native.node');

describe('the install script (native addon)', () => {
  it('builds when there is no addon, then skips while sources and Node ABI are unchanged', async () => {
    const nativeDir = nativeFolder();
    const { calls, build } = fakeBuild();
    assert.equal(await ensureNative({ nativeDir, facts, build, log: quiet }), 'built');
    assert.equal(fs.readFileSync(addonOf(nativeDir), 'utf8'), 'int f() { return 1; }');
    const inode = fs.statSync(addonOf(nativeDir)).ino;
    assert.equal(await ensureNative({ nativeDir, facts, build, log: quiet }), 'up-to-date');
    assert.equal(calls.length, 1);
    assert.equal(fs.statSync(addonOf(nativeDir)).ino, inode, 'an up-to-date addon is not touched');
  });

  it('rebuilds when a source, binding.gyp or the Node ABI changes, and when forced', async () => {
    const nativeDir = nativeFolder();
    const { calls, build } = fakeBuild();
    await ensureNative({ nativeDir, facts, build, log: quiet });
    fs.writeFileSync(path.join(nativeDir, 'src', 'addon.cc'), 'int f() { return 2; }');
    assert.equal(await ensureNative({ nativeDir, facts, build, log: quiet }), 'built');
    fs.writeFileSync(path.join(nativeDir, 'binding.gyp'), '{"targets": [{}]}');
    assert.equal(await ensureNative({ nativeDir, facts, build, log: quiet }), 'built');
    assert.equal(await ensureNative({ nativeDir, facts: { ...facts, modules: '127' }, build, log: quiet }), 'built');
    assert.equal(await ensureNative({ nativeDir, facts: { ...facts, modules: '127' }, build, log: quiet }), 'up-to-date');
    assert.equal(await ensureNative({ nativeDir, facts: { ...facts, modules: '127' }, force: true, build, log: quiet }), 'built');
    assert.equal(calls.length, 5);
  });

  it('rebuilds when the addon was deleted or built by hand (no stamp)', async () => {
    const nativeDir = nativeFolder();
    const { calls, build } = fakeBuild();
    await ensureNative({ nativeDir, facts, build, log: quiet });
    fs.rmSync(`${addonOf(nativeDir)}.fingerprint`);
    assert.equal(await ensureNative({ nativeDir, facts, build, log: quiet }), 'built');
    fs.rmSync(addonOf(nativeDir));
    assert.equal(await ensureNative({ nativeDir, facts, build, log: quiet }), 'built');
    assert.equal(calls.length, 3);
  });

  it('builds in a staging folder, never in place, and renames the new addon over the old', async () => {
    const nativeDir = nativeFolder();
    const { build } = fakeBuild();
    await ensureNative({ nativeDir, facts, build, log: quiet });
    const old = fs.openSync(addonOf(nativeDir), 'r');
    try {
      fs.writeFileSync(path.join(nativeDir, 'src', 'addon.cc'), 'int f() { return 2; }');
      await ensureNative({
        nativeDir, facts, log: quiet,
        build: async (staging: string) => {
          assert.notEqual(path.resolve(staging), path.resolve(nativeDir));
          assert.equal(fs.readFileSync(addonOf(nativeDir), 'utf8'), 'int f() { return 1; }', 'the old addon stays while building');
          await build(staging);
        },
      });
      assert.equal(fs.readFileSync(addonOf(nativeDir), 'utf8'), 'int f() { return 2; }');
      // A process that loaded the old addon keeps its file: the new one is a new file, not a rewrite.
      assert.equal(fs.readFileSync(old, 'utf8'), 'int f() { return 1; }');
    } finally {
      fs.closeSync(old);
    }
    assert.deepEqual(fs.readdirSync(path.join(nativeDir, 'build')), ['Release'], 'no staging folder is left');
  });

  it('a failed build leaves the old addon and its stamp, and no staging folder', async () => {
    const nativeDir = nativeFolder();
    const { build } = fakeBuild();
    await ensureNative({ nativeDir, facts, build, log: quiet });
    const stamp = fs.readFileSync(`${addonOf(nativeDir)}.fingerprint`, 'utf8');
    fs.writeFileSync(path.join(nativeDir, 'src', 'addon.cc'), 'int f( {');
    await assert.rejects(
      ensureNative({ nativeDir, facts, log: quiet, build: async () => { throw new Error('node-gyp failed (exit code 1)'); } }),
      /node-gyp failed/);
    assert.equal(fs.readFileSync(addonOf(nativeDir), 'utf8'), 'int f() { return 1; }');
    assert.equal(fs.readFileSync(`${addonOf(nativeDir)}.fingerprint`, 'utf8'), stamp);
    assert.deepEqual(fs.readdirSync(path.join(nativeDir, 'build')), ['Release']);
  });

  it('the fingerprint covers file names as well as contents', () => {
    const nativeDir = nativeFolder();
    const before = nativeFingerprint(nativeDir, facts);
    fs.renameSync(path.join(nativeDir, 'src', 'addon.cc'), path.join(nativeDir, 'src', 'other.cc'));
    assert.notEqual(nativeFingerprint(nativeDir, facts), before);
  });
});

describe('the prepare script (TypeScript)', () => {
  function project(): string {
    fs.mkdirSync(path.join(dir, 'src'));
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), '{}');
    fs.writeFileSync(path.join(dir, 'src', 'index.ts'), 'export const a = 1;');
    return dir;
  }

  /** A stand-in for tsc: copies src/*.ts to OUT/*.js and counts its calls. */
  function fakeCompile() {
    const calls: string[] = [];
    const compile = async (projectRoot: string, outDir: string) => {
      calls.push(outDir);
      fs.mkdirSync(path.join(outDir, 'cli'), { recursive: true });
      fs.copyFileSync(path.join(projectRoot, 'src', 'index.ts'), path.join(outDir, 'index.js'));
      fs.writeFileSync(path.join(outDir, 'cli', 'main.js'), 'main');
    };
    return { calls, compile };
  }
  const ts = { typescript: '5.9.3' };

  it('compiles into dist/ by renaming, then skips while src/ and tsconfig are unchanged', async () => {
    const projectRoot = project();
    const { calls, compile } = fakeCompile();
    assert.equal(await ensureCompiled({ root: projectRoot, facts: ts, compile, log: quiet }), 'built');
    const index = path.join(projectRoot, 'dist', 'index.js');
    assert.equal(fs.readFileSync(index, 'utf8'), 'export const a = 1;');
    assert.equal(fs.readFileSync(path.join(projectRoot, 'dist', 'cli', 'main.js'), 'utf8'), 'main');
    assert.equal(path.dirname(calls[0]), projectRoot, 'tsc writes beside dist/, at its depth, so source maps still reach src/');
    assert.notEqual(calls[0], path.join(projectRoot, 'dist'));
    assert.deepEqual(fs.readdirSync(projectRoot).sort(), ['dist', 'src', 'tsconfig.json'], 'no staging folder is left');
    assert.equal(await ensureCompiled({ root: projectRoot, facts: ts, compile, log: quiet }), 'up-to-date');
    assert.equal(calls.length, 1);

    const old = fs.openSync(index, 'r');
    try {
      fs.writeFileSync(path.join(projectRoot, 'src', 'index.ts'), 'export const a = 2;');
      assert.equal(await ensureCompiled({ root: projectRoot, facts: ts, compile, log: quiet }), 'built');
      assert.equal(fs.readFileSync(index, 'utf8'), 'export const a = 2;');
      assert.equal(fs.readFileSync(old, 'utf8'), 'export const a = 1;', 'a module is replaced, not rewritten');
    } finally {
      fs.closeSync(old);
    }
    assert.equal(await ensureCompiled({ root: projectRoot, facts: { typescript: '6.0.0' }, compile, log: quiet }), 'built');
    assert.equal(await ensureCompiled({ root: projectRoot, facts: { typescript: '6.0.0' }, force: true, compile, log: quiet }), 'built');
    assert.equal(calls.length, 4);
    assert.deepEqual(fs.readdirSync(path.join(projectRoot, 'dist')).sort(), ['.fingerprint', 'cli', 'index.js']);
  });

  it('a failed compile leaves dist/ as it was', async () => {
    const projectRoot = project();
    const { compile } = fakeCompile();
    await ensureCompiled({ root: projectRoot, facts: ts, compile, log: quiet });
    fs.writeFileSync(path.join(projectRoot, 'src', 'index.ts'), 'export const a: number = "x";');
    await assert.rejects(ensureCompiled({
      root: projectRoot, facts: ts, log: quiet,
      compile: async (_: string, outDir: string) => {
        fs.writeFileSync(path.join(outDir, 'index.js'), 'half');
        throw new Error('tsc failed (exit code 2)');
      },
    }), /tsc failed/);
    assert.equal(fs.readFileSync(path.join(projectRoot, 'dist', 'index.js'), 'utf8'), 'export const a = 1;');
    assert.deepEqual(fs.readdirSync(path.join(projectRoot, 'dist')).sort(), ['.fingerprint', 'cli', 'index.js']);
    assert.deepEqual(fs.readdirSync(projectRoot).sort(), ['dist', 'src', 'tsconfig.json']);
  });
});

describe('the package', () => {
  it('installs and prepares through the scripts that skip up-to-date builds', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    assert.equal(pkg.scripts.install, 'node scripts/build-native.mjs');
    assert.equal(pkg.scripts.prepare, 'node scripts/build-ts.mjs');
    assert.match(pkg.scripts['build:native'], /build-native\.mjs --force/);
  });
});
