#!/usr/bin/env node
// `npm run bench:torch`: training throughput of scalelab and of PyTorch on the same GPT, the same
// batch shape, the same optimiser and the same threads, one after the other in one run, and the
// ratio of their tokens/s. PyTorch's side is gpt_step.py, run by a python3 that has torch
// (Debian: apt-get install python3-torch libopenblas0-pthread).
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const SHAPE = ['layers', 'd-model', 'heads', 'ctx', 'batch', 'steps', 'warmup', 'threads'];
const DEFAULTS = { layers: 4, 'd-model': 256, heads: 4, ctx: 256, batch: 16, steps: 10, warmup: 3, threads: os.availableParallelism() };

function fail(message, code = 2) {
  console.error(`bench:torch: ${message}`);
  process.exit(code);
}

function options() {
  let parsed;
  try {
    parsed = parseArgs({
      options: { ...Object.fromEntries(SHAPE.map((k) => [k, { type: 'string' }])), json: { type: 'boolean' } },
    }).values;
  } catch (err) {
    fail(`${err.message.split('\n')[0]}; options: ${SHAPE.map((k) => `--${k} N`).join(' ')} --json`);
  }
  const shape = { ...DEFAULTS };
  for (const key of SHAPE) {
    if (parsed[key] === undefined) continue;
    const n = Number(parsed[key]);
    if (!Number.isInteger(n) || n < 1) fail(`--${key} must be a positive integer, got '${parsed[key]}'`);
    shape[key] = n;
  }
  if (shape['d-model'] % shape.heads !== 0) fail(`--d-model ${shape['d-model']} is not a multiple of --heads ${shape.heads}`);
  return { shape, json: parsed.json ?? false };
}

/** A python3 that imports torch: $PYTHON if set, else python3 on PATH, else Debian's /usr/bin/python3. */
function findPython() {
  const candidates = process.env.PYTHON ? [process.env.PYTHON] : ['python3', '/usr/bin/python3'];
  const found = candidates.find((py) => spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);
  if (!found) {
    fail(`PyTorch is not installed for ${candidates.join(' or ')}: on Debian, apt-get install python3-torch libopenblas0-pthread (or set $PYTHON to a python with torch)`);
  }
  return found;
}

/** Runs a benchmark command and returns the JSON object on the last line of its output. */
function lastJson(what, command, args, env = process.env) {
  const r = spawnSync(command, args, { encoding: 'utf8', env, maxBuffer: 1 << 24 });
  const line = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) {
    const why = (r.stderr ?? '').trim().split('\n').pop() || r.error?.message || `exit code ${r.status}`;
    fail(`${what} failed: ${why}`, 1);
  }
  return JSON.parse(line);
}

const flags = (shape) => SHAPE.flatMap((k) => [`--${k}`, String(shape[k])]);

function main() {
  const { shape, json } = options();
  const python = findPython();
  // scalelab's kernel threads sleep between kernels unless the user says otherwise; PyTorch's
  // OpenMP threads get the same policy, so neither pays for the other's spinning.
  const torchEnv = { ...process.env, OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'PASSIVE' };
  const torch = lastJson('PyTorch (bench/torch/gpt_step.py)', python, [here('gpt_step.py'), ...flags(shape)], torchEnv);
  const ours = lastJson('scalelab bench', process.execPath, [here('../../bin/scalelab.js'), 'bench', '--json', ...flags(shape)]);
  const ratio = ours.tokens_per_s / torch.tokens_per_s;
  if (json) {
    console.log(JSON.stringify({ shape, scalelab: ours, pytorch: torch, ratio }));
    return;
  }
  // Both sides do the same work per token, so scalelab's FLOPs per token price PyTorch's too.
  const flopsPerToken = (ours.gflops * 1e9) / ours.tokens_per_s;
  const rows = [[`pytorch ${torch.torch}`, torch], [`scalelab (${ours.kernel})`, ours]];
  const width = Math.max(...rows.map(([name]) => name.length));
  const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
  console.log(`GPT: ${plural(shape.layers, 'layer')}, d_model ${shape['d-model']}, ${plural(shape.heads, 'head')}, ` +
    `context ${shape.ctx}, batch ${shape.batch}, ${ours.params} parameters; ${plural(shape.threads, 'thread')}, ` +
    `${plural(shape.steps, 'timed step')} each`);
  for (const [name, r] of rows) {
    console.log(`${name.padEnd(width)}  ${Math.round(r.tokens_per_s).toString().padStart(8)} tokens/s  ` +
      `${r.step_ms.toFixed(1).padStart(7)} ms/step  ${((flopsPerToken * r.tokens_per_s) / 1e9).toFixed(1).padStart(6)} GFLOP/s`);
  }
  console.log(`scalelab / pytorch tokens/s: ${ratio.toFixed(2)}`);
  if (torch.blas?.includes('/blas/')) {
    console.log(`note: PyTorch ran on the reference BLAS (${torch.blas}); apt-get install libopenblas0-pthread for a fair comparison`);
  }
}

main();
