import { BUILTIN_TASKS, resolveTask } from './src/eval/tasks/index.js';
import { buildPrompt } from './src/eval/fewshot.js';
for (const b of BUILTIN_TASKS) {
  const t0 = performance.now();
  const t = resolveTask(b.name);
  const ex = t.examples(); const fs = t.fewshot();
  console.log(`== ${t.name} ${t.version} n=${ex.length} fewshot=${fs.length} ${(performance.now()-t0).toFixed(0)}ms`);
  console.log(JSON.stringify(ex.slice(0, 2)));
  if (t.kind !== 'rolling') console.log(JSON.stringify(buildPrompt(t, ex[0], 2, 0)));
}
const bpb = resolveTask('bpb').examples();
const groups: Record<string, number> = {};
for (const e of bpb) if (e.kind === 'rolling') groups[e.group!] = (groups[e.group!] ?? 0) + 1;
console.log(groups);
const g = resolveTask('brown-genre').examples();
const golds: Record<number, number> = {};
for (const e of g) if (e.kind === 'loglikelihood') golds[e.gold] = (golds[e.gold] ?? 0) + 1;
console.log(golds);
