// The dashboard in a real browser: Debian's Chromium driven by playwright-core, one launch for
// every check. The page loads; a run that starts training while the page is open shows up and
// its curve grows as rows are logged; the log-x toggle changes the axis; the scaling-law view
// draws its fitted frontier; the emergence view plots a sweep's evaluated task; the sweep and playground views work (the playground streams text
// from a tiny trained model); the page fits a 400px window; an empty home says what to do. A
// screenshot of each view goes to test-artifacts/dashboard/.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { RunStore } from '../src/runs/index.js';
import { train } from '../src/train/train.js';
import { startDashboard, type RunningDashboard } from '../src/dashboard/server.js';
import { addSyntheticEvaluatedSweep, addSyntheticRun, addSyntheticSweep } from '../src/dashboard/synthetic.js';
import { ensureUiBuilt as ensureBuilt } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const artifacts = path.join(root, 'test-artifacts', 'dashboard');

const interactive = (page: Page) => page.waitForFunction(() => performance.getEntriesByName('scalelab:interactive').length > 0);

interface Win {
  scalelab: {
    state: { selected: string[]; runs: Map<string, { name: string }>; options: { logX: boolean } };
    curves: { charts: { metric: string; u: { data: (number | null | undefined)[][]; scales: Record<string, { distr: number; min: number; max: number }> } }[] };
    emergence: { view: { task: string; axis: string } | null; charts: { metric: string; u: { data: (number | null | undefined)[][] } }[] };
    law: {
      view: { sweep: string } | null; frontierSeries: number;
      frontierChart: { data: (number | null | undefined)[][]; ctx: CanvasRenderingContext2D; valToPos(v: number, s: string, c?: boolean): number } | null;
    };
  };
}

/** The last step drawn for a run in the train-loss chart (-1 when it is not drawn). */
function lastDrawnStep(page: Page, runId: string): Promise<number> {
  return page.evaluate((id) => {
    const s = (window as unknown as Win).scalelab;
    const k = s.state.selected.indexOf(id);
    const c = s.curves.charts.find((ch) => ch.metric === 'trainBpb');
    if (k < 0 || !c) return -1;
    const xs = c.u.data[0], ys = c.u.data[1 + 2 * k];
    let last = -1;
    for (let i = 0; i < xs.length; i++) if (typeof ys?.[i] === 'number') last = xs[i] as number;
    return last;
  }, runId);
}

describe('dashboard in Chromium', { skip: !fs.existsSync(CHROMIUM) && `no ${CHROMIUM}: apt-get install chromium` }, () => {
  let home: string;
  let store: RunStore;
  let dash: RunningDashboard;
  let browser: Browser;
  let page: Page;

  before(async () => {
    ensureBuilt();
    fs.mkdirSync(artifacts, { recursive: true });
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-dashboard-browser-'));
    // A tiny real model for the playground, then synthetic history around it.
    const res = await train({ layers: 1, dModel: 32, heads: 2, ctx: 64, batch: 4, tokens: 4 * 64 * 20, evalTokens: 1024, checkpointEvery: 10, threads: 2, name: 'tiny' }, { home });
    assert.equal(res.status, 'done');
    store = RunStore.open(home);
    await addSyntheticSweep(store, 'iso', { verifyFlops: 4e13, queued: 2 });
    await addSyntheticRun(store, { name: 'long-baseline', steps: 5000, spikes: [2500], params: 4e6 });
    await addSyntheticRun(store, { name: 'long-variant', steps: 4000, params: 4e6, seed: 9 });
    dash = await startDashboard({ home, port: 0, resamples: 40, intervalMs: 100 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(0);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    (page as unknown as { errors: string[] }).errors = errors;
  });

  after(async () => {
    await browser?.close();
    await dash?.close();
    await store?.close();
    if (home) fs.rmSync(home, { recursive: true, force: true });
  });

  it('loads: the runs table and the curves of the newest runs', async () => {
    await page.goto(`${dash.url}/`);
    await interactive(page);
    const rows = await page.locator('#runs-table tbody tr[data-id]').count();
    assert.equal(rows, (await store.listRuns()).length);
    await page.waitForFunction(() => (window as unknown as Win).scalelab.curves.charts.length === 2);
    assert.equal(await page.locator('#charts .chart canvas').count(), 2);
    await page.screenshot({ path: path.join(artifacts, 'runs.png'), fullPage: true });
  });

  it('clicking "best val bpb" puts the best (lowest) run first; "params (non-emb)" the largest', async () => {
    const firstRow = () => page.evaluate(() => (document.querySelector('#runs-table tbody tr[data-id]') as HTMLElement).dataset.id!);
    const runs = (await store.listRuns()).filter((r) => r.bestValBpb !== null);
    const best = runs.reduce((a, b) => (b.bestValBpb! < a.bestValBpb! ? b : a));
    await page.click('#runs-table th[data-key=best]');
    assert.equal(await firstRow(), best.id);
    assert.match(await page.locator('#runs-table th[data-key=params]').innerText(), /params \(non-emb\)/);
    await page.click('#runs-table th[data-key=params]');
    const biggest = Math.max(...(await store.listRuns()).map((r) => r.nonEmbeddingParams ?? 0));
    assert.equal((await store.findRun(await firstRow()))!.nonEmbeddingParams, biggest);
    await page.click('#runs-table th[data-key=started]');
  });

  it('a run that starts training shows up, and its curve grows as rows are logged', async () => {
    const writer = RunStore.open(home);
    try {
      const run = await writer.createRun({ name: 'fresh', config: { layers: 2, dModel: 64 }, params: 1e5, nonEmbeddingParams: 5e4, flopsPerToken: 3e5, tokensTarget: 64_000 });
      await writer.updateRun(run.id, { status: 'running', startedAt: new Date().toISOString() });
      const log = async (from: number, to: number) => await writer.logMetrics(run.id, Array.from({ length: to - from + 1 }, (_, i) => {
        const step = from + i;
        return { step, tokens: step * 64, flops: step * 64 * 3e5, trainLoss: 2 + 3 / Math.sqrt(step), valBpb: step % 10 === 0 ? 3 + 3 / Math.sqrt(step) : null };
      }));
      await log(1, 20);
      await page.locator('#runs-table tbody tr', { hasText: 'fresh' }).waitFor();
      await page.waitForFunction((id) => (window as unknown as Win).scalelab.state.selected.includes(id), run.id);
      await page.waitForFunction((id) => {
        const s = (window as unknown as Win).scalelab;
        const k = s.state.selected.indexOf(id);
        const c = s.curves.charts.find((ch) => ch.metric === 'trainBpb')!;
        return c.u.data[1 + 2 * k]?.some((y) => typeof y === 'number');
      }, run.id);
      const before = await lastDrawnStep(page, run.id);
      assert.ok(before >= 20, `drawn up to step ${before}`);
      await log(21, 60);
      await page.waitForFunction((id) => {
        const s = (window as unknown as Win).scalelab;
        const k = s.state.selected.indexOf(id);
        const c = s.curves.charts.find((ch) => ch.metric === 'trainBpb')!;
        const xs = c.u.data[0], ys = c.u.data[1 + 2 * k];
        return xs.some((x, i) => x === 60 && typeof ys?.[i] === 'number');
      }, run.id);
      assert.equal(await lastDrawnStep(page, run.id), 60);
      // The table follows too: the newest row's step reached the tokens column.
      await page.locator('#runs-table tbody tr', { hasText: 'fresh' }).locator('td', { hasText: '3.84k' }).waitFor();
      await page.screenshot({ path: path.join(artifacts, 'runs-live.png'), fullPage: true });
      await writer.updateRun(run.id, { status: 'done', finishedAt: new Date().toISOString() });
      await page.locator('#runs-table tbody tr', { hasText: 'fresh' }).locator('.st-done').waitFor();
    } finally {
      await writer.close();
    }
  });

  it('the log-x toggle puts the x axis on a log scale and back', async () => {
    const distr = () => page.evaluate(() => (window as unknown as Win).scalelab.curves.charts.map((c) => c.u.scales.x.distr));
    assert.deepEqual(await distr(), [1, 1]);
    await page.click('#log-x');
    await page.waitForFunction(() => (window as unknown as Win).scalelab.curves.charts.every((c) => c.u.scales.x.distr === 3));
    const min = await page.evaluate(() => (window as unknown as Win).scalelab.curves.charts[0].u.scales.x.min);
    assert.ok(min > 0, `a log axis starts above 0, got ${min}`);
    await page.click('#log-y');
    await page.waitForFunction(() => (window as unknown as Win).scalelab.curves.charts.every((c) => c.u.scales.y.distr === 3));
    await page.screenshot({ path: path.join(artifacts, 'runs-log-log.png') });
    await page.click('#log-x');
    await page.click('#log-y');
    await page.waitForFunction(() => (window as unknown as Win).scalelab.curves.charts.every((c) => c.u.scales.x.distr === 1 && c.u.scales.y.distr === 1));
  });

  it('dragging across a chart zooms every chart; a double click zooms out', async () => {
    const over = page.locator('#charts .chart').first().locator('.u-over');
    const box = (await over.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await page.waitForFunction(() => {
      const s = (window as unknown as Win & { scalelab: { state: { zoom: { min: number; max: number } | null } } }).scalelab;
      const z = s.state.zoom;
      return z !== null && s.curves.charts.every((c) => Math.abs(c.u.scales.x.min - z.min) < 1e-6 * Math.abs(z.max) && Math.abs(c.u.scales.x.max - z.max) < 1e-6 * Math.abs(z.max));
    });
    assert.ok(await page.isVisible('#reset-zoom'));
    await over.dblclick();
    await page.waitForFunction(() => (window as unknown as { scalelab: { state: { zoom: unknown } } }).scalelab.state.zoom === null);
    assert.ok(await page.isHidden('#reset-zoom'));
  });

  it('the scaling-law view draws the fitted frontier through its band', async () => {
    await page.goto(`${dash.url}/#law?sweep=iso`);
    await page.waitForFunction(() => (window as unknown as Win).scalelab.law.view?.sweep === 'iso' && (window as unknown as Win).scalelab.law.frontierChart !== null);
    const drawn = await page.evaluate(() => {
      const law = (window as unknown as Win).scalelab.law;
      const u = law.frontierChart!;
      const xs = u.data[0], ys = u.data[law.frontierSeries];
      const at = xs.map((_, i) => i).filter((i) => typeof ys[i] === 'number');
      // The pixels under the middle of the line are the frontier's dark stroke.
      const mid = at[Math.floor(at.length / 2)];
      const x = Math.round(u.valToPos(xs[mid] as number, 'x', true)), y = Math.round(u.valToPos(ys[mid] as number, 'y', true));
      const px = u.ctx.getImageData(x - 2, y - 2, 5, 5).data;
      let dark = 0;
      for (let i = 0; i < px.length; i += 4) if (px[i + 3] > 200 && px[i] < 90 && px[i + 1] < 90 && px[i + 2] < 90) dark++;
      return { points: at.length, dark };
    });
    assert.ok(drawn.points >= 20, `${drawn.points} frontier points`);
    assert.ok(drawn.dark > 0, 'the frontier line is on the canvas');
    assert.equal(await page.locator('#law-body canvas').count(), 2, 'frontier and isoFLOP charts');
    await page.locator('.law-text', { hasText: 'iso-verify-4.0e13' }).waitFor();
    assert.match(await page.locator('.law-text').innerText(), /inside/);
    await page.screenshot({ path: path.join(artifacts, 'law.png'), fullPage: true });
  });

  it('sweep status: counts, ETA and jobs', async () => {
    await page.goto(`${dash.url}/#sweeps`);
    const card = page.locator('.sweep', { hasText: 'iso' });
    await card.waitFor();
    assert.match(await card.innerText(), /15 done · 0 running · 2 queued · 0 failed of 17 jobs/);
    assert.match(await card.innerText(), /ETA/);
    await card.locator('summary').click();
    await card.locator('.jobs tbody tr').nth(16).waitFor();
    assert.match(await card.locator('.jobs thead').innerText(), /budget/);
    assert.match(await card.locator('.jobs tbody tr').first().innerText(), /4×128 h4 ctx128\s+\S+\s+1\.0e12\s/);
    assert.match(await card.locator('.jobs tr.verify').innerText(), /verify\s+iso-verify-4\.0e13\s+done/);
    await page.screenshot({ path: path.join(artifacts, 'sweeps.png'), fullPage: true });
  });

  it('the playground streams a completion from the API on the same server', async () => {
    await page.goto(`${dash.url}/#playground`);
    await page.locator('select[name=model] option[value=tiny]').waitFor({ state: 'attached' });
    await page.selectOption('select[name=model]', 'tiny');
    await page.fill('textarea[name=prompt]', 'The jury');
    await page.fill('input[name=max_tokens]', '24');
    await page.fill('input[name=seed]', '1');
    await page.click('button[type=submit]');
    // The button is disabled while the completion streams; enabled again, it is over (done or failed).
    await page.waitForFunction(() => !(document.querySelector('button[type=submit]') as HTMLButtonElement).disabled);
    assert.match(await page.locator('.pg-stats').innerText(), /^24 tokens in/);
    const out = await page.locator('.pg-out').innerText();
    assert.ok(out.startsWith('The jury') && out.length > 'The jury'.length, out);
    await page.screenshot({ path: path.join(artifacts, 'playground.png'), fullPage: true });
    assert.deepEqual((page as unknown as { errors: string[] }).errors, [], 'no errors in the page');
  });

  it('the playground works on its defaults with a context-64 model: 200 tokens continue past the context', async () => {
    // A fresh page: the form as a new user first sees it.
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(0);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${dash.url}/#playground`);
    await page.locator('select[name=model] option[value=tiny]').waitFor({ state: 'attached' });
    // Checkpoints sit under their run, newest first, after its final weights.
    const groups = await page.evaluate(() => [...document.querySelectorAll('select[name=model] optgroup')].map((g) => ({
      label: g.getAttribute('label'), ids: [...g.querySelectorAll('option')].map((o) => o.value),
    })));
    assert.deepEqual(groups, [{ label: 'tiny · 1×32 h2 ctx64', ids: ['tiny', 'tiny@20', 'tiny@10', 'tiny@0'] }]);
    assert.equal(await page.inputValue('select[name=model]'), 'tiny');
    assert.equal(await page.inputValue('input[name=max_tokens]'), '200');
    await page.click('button[type=submit]');
    await page.waitForFunction(() => !(document.querySelector('button[type=submit]') as HTMLButtonElement).disabled);
    assert.equal(await page.locator('.pg-out .notice').count(), 0, await page.locator('.pg-out').innerText());
    assert.match(await page.locator('.pg-stats').innerText(), /^200 tokens in .*\(\d+ requests of context 64\)/);
    const out = await page.locator('.pg-out').innerText();
    assert.ok(out.startsWith('The jury said'), out);
    assert.ok(new TextEncoder().encode(out).length >= 'The jury said'.length + 200 - 8, `${out.length} characters`);
    await page.screenshot({ path: path.join(artifacts, 'playground-long.png'), fullPage: true });
    assert.deepEqual(errors, [], 'no errors in the page');
    await page.close();
  });

  it('fits a 400px window', async () => {
    const narrow = await browser.newPage({ viewport: { width: 400, height: 800 } });
    narrow.setDefaultTimeout(0);
    try {
      await narrow.goto(`${dash.url}/`);
      await interactive(narrow);
      const widths = await narrow.evaluate(() => ({
        page: document.documentElement.scrollWidth,
        charts: [...document.querySelectorAll('#charts canvas')].map((c) => c.getBoundingClientRect().right),
      }));
      assert.ok(widths.page <= 400, `the page scrolls sideways: ${widths.page}px`);
      assert.ok(widths.charts.length === 2 && widths.charts.every((r) => r <= 400), `charts end at ${widths.charts}`);
      await narrow.screenshot({ path: path.join(artifacts, 'runs-narrow.png'), fullPage: true });
      await narrow.goto(`${dash.url}/#law?sweep=iso`);
      await narrow.waitForFunction(() => (window as unknown as Win).scalelab.law.frontierChart !== null);
      assert.ok(await narrow.evaluate(() => document.documentElement.scrollWidth <= 400));
      await narrow.screenshot({ path: path.join(artifacts, 'law-narrow.png'), fullPage: true });
    } finally {
      await narrow.close();
    }
  });

  it("the emergence view plots a sweep's task: exact match beside log-prob, each with its verdict", async () => {
    await addSyntheticEvaluatedSweep(store, 'emg');
    await page.goto(`${dash.url}/#emergence?sweep=emg&task=add3`);
    await page.waitForFunction(() => (window as unknown as Win).scalelab.emergence.charts.length === 3);
    const charts = await page.evaluate(() => (window as unknown as Win).scalelab.emergence.charts.map((c) => ({ metric: c.metric, xs: c.u.data[0], ys: c.u.data[1] })));
    assert.deepEqual(charts.map((c) => c.metric), ['exact_match', 'logprob_per_byte', 'edit_distance'], 'exact match first, the continuous metric beside it');
    assert.deepEqual(charts[0].xs, [1e12, 3e12, 1e13, 3e13]);
    assert.deepEqual(charts[0].ys, [0, 0.02, 0.85, 0.95]);
    assert.equal(await page.locator('#em-body canvas').count(), 3);
    assert.equal(await page.locator('#em-body .chart[data-metric=exact_match] .verdict').innerText(), 'abrupt: 87% of the rise between 3.0e12 and 1.0e13 FLOPs');
    assert.match(await page.locator('#em-body .chart[data-metric=logprob_per_byte] .verdict').innerText(), /^smooth: \d+% of the rise/);
    assert.deepEqual(await page.locator('#em-task option').allInnerTexts(), ['add3 (0-shot, 4 points)', 'brown-cloze (2-shot, 4 points)']);
    await page.screenshot({ path: path.join(artifacts, 'emergence.png'), fullPage: true });
    assert.deepEqual((page as unknown as { errors: string[] }).errors, [], 'no errors in the page');
  });

  it('an empty home says what to do', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-dashboard-empty-'));
    const d = await startDashboard({ home: empty, port: 0 });
    const p = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    p.setDefaultTimeout(0);
    try {
      await p.goto(`${d.url}/`);
      await interactive(p);
      assert.match(await p.locator('#charts .empty').innerText(), /No runs yet: run scalelab train/);
      assert.match(await p.locator('.table-wrap .empty').innerText(), /No runs yet/);
      await p.screenshot({ path: path.join(artifacts, 'empty.png') });
      await p.goto(`${d.url}/#law`);
      await p.locator('#law-body .empty', { hasText: 'No sweeps yet' }).waitFor();
      await p.goto(`${d.url}/#playground`);
      await p.locator('.pg-empty .empty', { hasText: 'No finished runs to serve yet' }).waitFor();
    } finally {
      await p.close();
      await d.close();
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
