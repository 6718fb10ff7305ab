// Evaluation tasks: built-in tasks are deterministic and versioned, Brown tasks use only held-out
// documents, few-shot demonstrations never come from the evaluation set, and a user's JSONL file
// is read or refused with the file and line.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadCorpus, splitCorpus } from '../src/data/index.js';
import { TEXT_TASKS, isEvalProblem } from '../src/data/tasks-text.js';
import { BUILTIN_TASKS, BROWN_CATEGORIES, GENRE_CHOICES, brownHeldOut, resolveTask, resolveTasks } from '../src/eval/tasks/index.js';
import { buildPrompt, demonstration } from '../src/eval/fewshot.js';
import type { Example, GenerateExample, LoglikelihoodExample, RollingExample, Task } from '../src/eval/types.js';
import { assertUsageError } from './helpers.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-tasks-'));
const write = (name: string, text: string) => {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, text);
  return file;
};
const keyOf = (e: Example) => JSON.stringify(e);
const SYNTHETIC = ['add2', 'add3', 'copy', 'rev'];

describe('built-in tasks', () => {
  it('are listed with a kind and a description', () => {
    assert.deepEqual(BUILTIN_TASKS.map((t) => t.name), ['add2', 'add3', 'copy', 'rev', 'brown-cloze', 'brown-genre', 'bpb']);
    for (const t of BUILTIN_TASKS) assert.ok(t.description.length > 20 && resolveTask(t.name).kind === t.kind, t.name);
  });

  for (const name of SYNTHETIC) {
    it(`${name}: 500 distinct, correct, evaluation-only problems, the same every time`, () => {
      const t = resolveTask(name);
      assert.equal(t.version, `${name}-v1`);
      const ex = t.examples() as GenerateExample[];
      assert.equal(ex.length, 500);
      assert.deepEqual(resolveTask(name).examples(), ex);
      assert.equal(new Set(ex.map((e) => e.prompt)).size, 500);
      for (const e of ex) {
        assert.equal(e.kind, 'generate');
        assert.deepEqual(e.stop, ['\n']);
        assert.ok(isEvalProblem(TEXT_TASKS[name], e));
        const body = e.prompt.slice(0, -1);
        if (name.startsWith('add')) {
          const [a, b] = body.split('+');
          assert.equal(a.length, Number(name[3]));
          assert.equal(b.length, Number(name[3]));
          assert.equal(e.target, String(Number(a) + Number(b)));
        } else assert.equal(e.target, name === 'copy' ? body : [...body].reverse().join(''));
      }
      // Another seed: another set, under another version.
      const other = resolveTask(name, { seed: 5 });
      assert.equal(other.version, `${name}-v1-seed5`);
      assert.notDeepEqual(other.examples(), ex);
      assert.deepEqual(resolveTask(name, { limit: 7 }).examples(), ex.slice(0, 7));
    });
  }

  it('the Brown tasks read only held-out documents, and few-shot documents are apart from evaluation ones', () => {
    const corpus = loadCorpus('brown');
    const split = splitCorpus(corpus, { seed: 0 });
    const { eval: evalDocs, fewshot } = brownHeldOut();
    const ids = [...evalDocs, ...fewshot].map((d) => d.id).sort();
    assert.deepEqual(ids, [...split.valIds].sort());
    assert.ok(fewshot.length >= 1 && evalDocs.length > fewshot.length);
    for (const d of fewshot) assert.ok(!evalDocs.some((e) => e.id === d.id));
    const evalText = evalDocs.map((d) => d.text).join('\n\n');
    const fewshotText = fewshot.map((d) => d.text).join('\n\n');

    const cloze = resolveTask('brown-cloze');
    assert.equal(cloze.version, 'brown-cloze-v1');
    const ex = cloze.examples() as LoglikelihoodExample[];
    assert.equal(ex.length, 300);
    assert.deepEqual(resolveTask('brown-cloze').examples(), ex);
    const golds = new Set<number>();
    for (const e of ex) {
      assert.equal(e.choices.length, 4);
      assert.equal(new Set(e.choices.map((c) => c.toLowerCase())).size, 4);
      const gold = e.choices[e.gold];
      for (const c of e.choices) assert.ok(c.startsWith(' ') && Math.abs(c.length - gold.length) <= 1, `${c} vs ${gold}`);
      assert.ok(evalText.includes(e.context + gold), `"${e.context}${gold}" is from an evaluation document`);
      golds.add(e.gold);
    }
    assert.equal(golds.size, 4, 'the gold choice moves');
    for (const d of cloze.fewshot() as LoglikelihoodExample[]) assert.ok(fewshotText.includes(d.context + d.choices[d.gold]));

    const genre = resolveTask('brown-genre');
    const gex = genre.examples() as LoglikelihoodExample[];
    assert.equal(gex.length, 300);
    for (const e of gex) {
      assert.deepEqual(e.choices, GENRE_CHOICES);
      assert.equal(e.choices.length, 15);
      const passage = e.context.replace(/^Passage: /, '').replace(/\nGenre:$/, '');
      const doc = evalDocs.find((d) => d.text.includes(passage));
      assert.ok(doc, 'a passage of an evaluation document');
      assert.equal(e.choices[e.gold], ` ${doc.category}`);
    }
    assert.deepEqual(Object.keys(BROWN_CATEGORIES).length, 15);

    const bpb = resolveTask('bpb');
    const rex = bpb.examples() as RollingExample[];
    assert.equal(rex.length, 300);
    assert.equal(bpb.fewshot().length, 0);
    const groups = new Set(rex.map((e) => e.group));
    assert.ok(groups.size >= 10, 'per category');
    for (const e of rex.slice(0, 50)) assert.ok(Buffer.byteLength(e.text) <= 512 && (evalText + fewshotText).includes(e.text));
  });

  it('bpb:FILE measures any text file, its version a hash of the content', () => {
    const file = write('notes.txt', 'First paragraph of my notes.\nSecond one, with a little more text in it.\n');
    const t = resolveTask(`bpb:${file}`);
    assert.equal(t.name, 'bpb:notes.txt');
    assert.equal(t.kind, 'rolling');
    assert.deepEqual(t.examples(), [{ kind: 'rolling', text: 'First paragraph of my notes.\nSecond one, with a little more text in it.' }]);
    fs.appendFileSync(file, 'Third.\n');
    assert.notEqual(resolveTask(`bpb:${file}`).version, t.version);
    assertUsageError(() => resolveTask(`bpb:${path.join(tmp, 'absent.txt')}`), /cannot read text file .*absent\.txt.* ENOENT/);
    fs.writeFileSync(path.join(tmp, 'bin.txt'), Buffer.from([0x61, 0xff, 0x62]));
    assertUsageError(() => resolveTask(`bpb:${path.join(tmp, 'bin.txt')}`), /bin\.txt' is not UTF-8 text \(invalid byte at offset 1\)/);
  });

  it('an unknown name is one line listing what there is', () => {
    assertUsageError(() => resolveTask('nosuch'), /^unknown task 'nosuch'; built-in tasks: add2, add3, copy, rev, brown-cloze, brown-genre, bpb; or bpb:FILE, or a \.jsonl task file$/);
    assertUsageError(() => resolveTasks('copy,,add3'), /empty item/);
    assertUsageError(() => resolveTasks('copy,copy'), /names 'copy' twice/);
    assert.deepEqual(resolveTasks('copy, add3').map((t) => t.name), ['copy', 'add3']);
    assertUsageError(() => resolveTask('copy', { limit: 0 }), /limit must be a positive integer/);
  });
});

describe('few-shot prompts', () => {
  const tasks = [...SYNTHETIC, 'brown-cloze', 'brown-genre'].map((n) => resolveTask(n));

  for (const t of tasks) {
    it(`${t.name}: demonstrations come from the few-shot split, never the evaluation set, drawn per example`, () => {
      const evalKeys = new Set(t.examples().map(keyOf));
      const pool = t.fewshot();
      assert.ok(pool.length >= 5);
      for (const d of pool) assert.ok(!evalKeys.has(keyOf(d)), `few-shot ${keyOf(d)} is an evaluation example`);
      const demos = new Set(pool.map(demonstration));
      const sep = t.fewshotSeparator ?? '\n\n';
      const prefixes = new Set<string>();
      for (const e of t.examples().slice(0, 40)) {
        const p = buildPrompt(t, e, 3, 11);
        assert.deepEqual(buildPrompt(t, e, 3, 11), p, 'deterministic');
        const [orig, built] = e.kind === 'loglikelihood' ? [e.context, (p as LoglikelihoodExample).context] : [(e as GenerateExample).prompt, (p as GenerateExample).prompt];
        assert.ok(built.endsWith(sep + orig));
        const prefix = built.slice(0, built.length - orig.length);
        const parts = prefix.split(sep).slice(0, -1);
        assert.equal(parts.length, 3);
        // (Brown genre demonstrations contain no separator of their own; the others hold single lines.)
        for (const part of parts) assert.ok(demos.has(part), `demonstration ${JSON.stringify(part)} not from the few-shot split`);
        assert.equal(new Set(parts).size, 3, 'distinct demonstrations');
        prefixes.add(prefix);
        // The rest of the example is untouched.
        if (e.kind === 'loglikelihood') assert.deepEqual({ ...p, context: e.context }, e);
        else assert.deepEqual({ ...p, prompt: (e as GenerateExample).prompt }, e);
      }
      assert.ok(prefixes.size > 30, 'each example draws its own demonstrations');
      assert.deepEqual(buildPrompt(t, t.examples()[0], 0, 11), t.examples()[0]);
      assert.notDeepEqual(buildPrompt(t, t.examples()[0], 3, 12), buildPrompt(t, t.examples()[0], 3, 11));
    });
  }

  it('refuses more shots than the split holds, and leaves bits-per-byte text alone', () => {
    const t: Task = resolveTask(write('two.jsonl', '{"prompt":"a","target":"b"}\n{"prompt":"c","target":"d","split":"fewshot"}\n'));
    assert.equal((buildPrompt(t, t.examples()[0], 1, 0) as GenerateExample).prompt, 'cd\n\na');
    assertUsageError(() => buildPrompt(t, t.examples()[0], 2, 0), /task two has 1 few-shot example, fewer than --shots 2/);
    const bpb = resolveTask('bpb', { limit: 1 });
    assert.deepEqual(buildPrompt(bpb, bpb.examples()[0], 3, 0), bpb.examples()[0]);
  });
});

describe('task files', () => {
  it('reads the three kinds, with a few-shot split and a version that follows the content', () => {
    const ll = resolveTask(write('mc.jsonl', [
      '{"context": "The sky is", "choices": [" blue", " green"], "gold": 0}',
      '',
      '{"context": "Grass is", "choices": [" blue", " green"], "gold": 1, "split": "fewshot"}',
      '{"context": "Snow is", "choices": [" white", " black"], "gold": 0, "split": "eval"}',
    ].join('\n')));
    assert.equal(ll.name, 'mc');
    assert.equal(ll.kind, 'loglikelihood');
    assert.match(ll.version, /^sha256:[0-9a-f]{16}$/);
    assert.deepEqual(ll.examples(), [
      { kind: 'loglikelihood', context: 'The sky is', choices: [' blue', ' green'], gold: 0 },
      { kind: 'loglikelihood', context: 'Snow is', choices: [' white', ' black'], gold: 0 },
    ]);
    assert.deepEqual(ll.fewshot(), [{ kind: 'loglikelihood', context: 'Grass is', choices: [' blue', ' green'], gold: 1 }]);
    const gen = resolveTask(write('gen.jsonl', '{"prompt":"2+2=","target":"4"}\n{"prompt":"Q: hi\\nA:","target":" hello","stop":["\\n\\n"],"max_bytes":20}\n'));
    assert.deepEqual(gen.examples(), [
      { kind: 'generate', prompt: '2+2=', target: '4', stop: ['\n'] },
      { kind: 'generate', prompt: 'Q: hi\nA:', target: ' hello', stop: ['\n\n'], maxBytes: 20 },
    ]);
    const roll = resolveTask(write('roll.jsonl', '{"text":"some text","group":"a"}\n{"text":"more"}\n'));
    assert.deepEqual(roll.examples(), [{ kind: 'rolling', text: 'some text', group: 'a' }, { kind: 'rolling', text: 'more' }]);
    const v = gen.version;
    write('gen.jsonl', '{"prompt":"2+2=","target":"4"}\n');
    assert.notEqual(resolveTask(path.join(tmp, 'gen.jsonl')).version, v);
    assert.equal(resolveTask(path.join(tmp, 'gen.jsonl'), { limit: 1 }).examples().length, 1);
  });

  const bad: [string, string, RegExp][] = [
    ['json', '{"prompt":"a","target":"b"}\n{"prompt": "a",\n', /^.*json\.jsonl:2: not valid JSON/],
    ['array', '[1, 2]\n', /array\.jsonl:1: expected a JSON object, got an array/],
    ['nokind', '{"prompt":"a","target":"b"}\n\n{"question":"a"}\n', /nokind\.jsonl:3: not an example: write \{"context", "choices", "gold"\}/],
    ['mixed', '{"prompt":"a","target":"b"}\n{"context":"a","choices":["b"],"gold":0}\n', /mixed\.jsonl:2: a loglikelihood example in a file of generate examples \(line 1\); put each kind in its own file/],
    ['missing', '{"context":"a","choices":["b"]}\n', /missing\.jsonl:1: "gold": .* \(a loglikelihood example\)/],
    ['type', '{"prompt":"a","target":4}\n', /type\.jsonl:1: "target": .*string/],
    ['gold', '{"context":"a","choices":["b"," c"],"gold":2}\n', /gold\.jsonl:1: "gold" is 2 but there are 2 choices \(it counts from 0\)/],
    ['unknown', '{"prompt":"a","target":"b","stops":["x"]}\n', /unknown\.jsonl:1: unknown field "stops" \(a generate example\)/],
    ['split', '{"prompt":"a","target":"b","split":"train"}\n', /split\.jsonl:1: "split": /],
    ['empty', '\n\n', /empty\.jsonl: no examples to evaluate \(the file is empty\)/],
    ['onlyfew', '{"text":"a","split":"fewshot"}\n', /onlyfew\.jsonl: no examples to evaluate \(every line is "split": "fewshot"\)/],
  ];
  for (const [name, text, why] of bad) {
    it(`refuses ${name} in one line naming the file and line`, () => {
      const file = write(`${name}.jsonl`, text);
      assertUsageError(() => resolveTask(file), why);
      try {
        resolveTask(file);
      } catch (err) {
        assert.ok(!(err as Error).message.includes('\n'), (err as Error).message);
        assert.ok((err as Error).message.startsWith(file), (err as Error).message);
      }
    });
  }

  it('a missing file is one line', () => {
    assertUsageError(() => resolveTask(path.join(tmp, 'absent.jsonl')), /no task file '.*absent\.jsonl'; give a built-in task/);
  });
});
