// The dashboard's gallery of a video run: its view lists the prompts, seeds and weights (final
// and every kept checkpoint); each prompt's contact sheet is a PNG of the clips `scalelab video`
// draws, sampled once and then served from memory (and 304 for a browser that has it); a
// language run, a bad step or prompt is a 400, an unknown run or checkpoint a 404. In Chromium,
// the Gallery view shows the sheets, the runs table links a video run to it, and a video run's
// losses are labelled MSE.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { tinyVideoHome } from './video-home.js';
import { sampleVideo } from '../src/train/video.js';
import { contactSheet } from '../src/data/index.js';
import { startDashboard, type RunningDashboard } from '../src/dashboard/server.js';
import type { GalleryView } from '../src/dashboard/gallery.js';
import { VIDEO_EVAL_PROMPTS } from '../src/eval/video-prompts.js';
import { ensureUiBuilt } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const artifacts = path.join(root, 'test-artifacts', 'dashboard');

describe('the gallery of a video run', () => {
  let home: string;
  let dash: RunningDashboard;

  before(async () => {
    ensureUiBuilt();
    home = await tinyVideoHome('scalelab-gallery-');
    dash = await startDashboard({ home, port: 0, gallery: { steps: 2 } });
  });

  after(async () => {
    await dash?.close();
    if (home) fs.rmSync(home, { recursive: true, force: true });
  });

  it('lists the prompts, seeds and weights: final, then the kept checkpoints', async () => {
    const r = await fetch(`${dash.url}/api/runs/film/gallery`);
    assert.equal(r.status, 200);
    const v = await r.json() as GalleryView;
    assert.deepEqual(v.prompts, VIDEO_EVAL_PROMPTS.slice(0, 4));
    assert.deepEqual([v.seeds, v.steps, v.guidance, v.clip], [[0, 1], 2, 3, { frames: 4, height: 16, width: 16 }]);
    assert.deepEqual(v.weights, [{ step: -1, label: 'final' }, { step: 3, label: 'step 3' }, { step: 2, label: 'step 2' }, { step: 0, label: 'step 0' }]);
  });

  it('serves a prompt\'s sheet as a PNG of the clips scalelab video draws, sampled once', async () => {
    const url = `${dash.url}/api/runs/film/gallery/2/1`;
    const r = await fetch(url);
    assert.equal(r.status, 200, await r.clone().text());
    assert.equal(r.headers.get('content-type'), 'image/png');
    const png = Buffer.from(await r.arrayBuffer());
    // A row per seed: the clips of seeds 0 and 1 from the checkpoint at step 2.
    const clips = [];
    for (const seed of [0, 1]) clips.push((await sampleVideo('film@2', { home, prompt: VIDEO_EVAL_PROMPTS[1], seed, steps: 2, guidance: 3 })).clips[0]);
    assert.deepEqual(png, Buffer.from(contactSheet(clips, { frames: 4, height: 16, width: 16 })));
    assert.equal(dash.gallery.sampled, 1);
    // A reload: the same bytes from memory, and a browser holding them gets a 304.
    const again = await fetch(url);
    assert.deepEqual(Buffer.from(await again.arrayBuffer()), png);
    const etag = again.headers.get('etag')!;
    assert.equal((await fetch(url, { headers: { 'if-none-match': etag } })).status, 304);
    assert.equal(dash.gallery.sampled, 1);
    const final = await fetch(`${dash.url}/api/runs/film/gallery/final/0`);
    assert.equal(final.status, 200);
    assert.deepEqual([...Buffer.from(await final.arrayBuffer()).subarray(1, 4)], [0x50, 0x4e, 0x47]);
    assert.equal(dash.gallery.sampled, 2);
  });

  it('answers 404 for an unknown run or checkpoint, 400 for a language run, a bad step or prompt', async () => {
    const cases: [string, number, RegExp][] = [
      ['nope/gallery', 404, /No run named 'nope'/],
      ['nope/gallery/final/0', 404, /No run named 'nope'/],
      ['film/gallery/7/0', 404, /Run 'film' keeps no checkpoint at step 7/],
      ['prose/gallery', 400, /Run 'prose' is a language model; the gallery shows video runs/],
      ['prose/gallery/final/0', 400, /Run 'prose' is a language model/],
      ['film/gallery/latest/0', 400, /Invalid step 'latest': use 'final' or a checkpoint's step/],
      ['film/gallery/final/4', 400, /Invalid prompt 4: the gallery has prompts 0 to 3/],
      ['film/gallery/final/-1', 400, /Invalid prompt '-1'/],
    ];
    for (const [url, status, re] of cases) {
      const r = await fetch(`${dash.url}/api/runs/${url}`);
      assert.equal(r.status, status, url);
      assert.match(((await r.json()) as { error: { message: string } }).error.message, re);
    }
    assert.equal(dash.gallery.sampled, 2);
  });

  it('in Chromium: the runs table links a video run to its gallery, which shows a sheet per prompt; its losses read MSE', { skip: !fs.existsSync(CHROMIUM) && `no ${CHROMIUM}` }, async () => {
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
      const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
      page.setDefaultTimeout(0);
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${dash.url}/#runs?select=film`);
      await page.waitForFunction(() => performance.getEntriesByName('scalelab:interactive').length > 0);
      // Both kinds listed: each loss cell names its unit; film's curves are titled in MSE.
      assert.equal(await page.locator('#runs-table th[data-key=best]').innerText(), 'best val');
      assert.match(await page.locator('#runs-table tr[data-id] >> text=film').locator('xpath=ancestor::tr').innerText(), /mse/);
      assert.match(await page.locator('#charts .chart-title').first().innerText(), /velocity MSE/);
      await page.click('#runs-table a.to-gallery');
      await page.waitForFunction(() => {
        const imgs = [...document.querySelectorAll<HTMLImageElement>('#gallery-body .gallery img')];
        return imgs.length === 4 && imgs.every((i) => i.complete && i.naturalWidth > 0);
      });
      assert.equal(await page.locator('#gallery-run').inputValue(), 'film');
      assert.equal(await page.locator('#gallery-step').inputValue(), 'final');
      assert.deepEqual(await page.locator('#gallery-step option').allInnerTexts(), ['final', 'step 3', 'step 2', 'step 0']);
      assert.deepEqual(await page.locator('#gallery-body figcaption').allInnerTexts(), VIDEO_EVAL_PROMPTS.slice(0, 4));
      // Another checkpoint: its sheets, by the picker.
      await page.selectOption('#gallery-step', '3');
      await page.waitForFunction(() => {
        const imgs = [...document.querySelectorAll<HTMLImageElement>('#gallery-body .gallery img')];
        return imgs.length === 4 && imgs.every((i) => i.src.includes('/gallery/3/') && i.complete && i.naturalWidth > 0);
      });
      assert.match(await page.locator('#gallery-status').innerText(), /step 3: 4 sheets/);
      fs.mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: path.join(artifacts, 'gallery.png'), fullPage: true });
      assert.deepEqual(errors, []);
      assert.equal(dash.gallery.sampled, 9);
    } finally {
      await browser?.close();
    }
  });
});
