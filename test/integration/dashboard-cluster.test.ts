// The dashboard of a real LocalCluster in headless Chromium: a graph with one failing task
// reaches 100 % for the group that succeeded, with stream entries and worker memory shown, and
// the failure's error listed; and a performance report of what ran inside it, opened from
// file:// once the scheduler is gone, shows that and nothing from before.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { BROWSER_HOOK, launchBrowser } from '../helpers/browser.js';
import { withCluster } from '../helpers/cluster.js';
import { waitUntil } from '../helpers/wait.js';

interface Shown { dataset: Record<string, string | undefined>; textContent: string | null }

describe('dashboard of a LocalCluster', () => {
  let browser: Browser;
  before(async () => { browser = await launchBrowser(); }, BROWSER_HOOK);
  after(async () => { await browser?.close(); });

  test('shows a graph run to 100 %, its stream, worker memory and the failed task\'s error', async () => {
    await withCluster({ workers: 2, threads: 2, dashboardPort: 0 }, async (cluster, client) => {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      try {
        await page.goto(cluster.dashboardUrl);
        const ok = client.map(function square(x: number) { return x * x; }, Array.from({ length: 24 }, (_, i) => i));
        const bad = client.submit(function explode() { throw new Error('boom: <b>not markup</b>'); });
        assert.equal((await client.gather(ok)).length, 24);
        await assert.rejects(bad.result(), /boom/);
        const pct = (group: string) => page.$eval(`.progress-row[data-group="${group}"]`, (e) => (e as unknown as Shown).dataset.donePct).catch(() => undefined);
        await waitUntil(async () => (await pct('square')) === '100', 'square at 100 % on the page');
        await waitUntil(async () => Number(await page.$eval('canvas.task-stream', (c) => (c as unknown as Shown).dataset.total)) >= 25, 'the 25 tasks in the stream');
        assert.ok(Number(await page.$eval('canvas.task-stream', (c) => (c as unknown as Shown).dataset.drawn)) > 0);
        assert.equal(await page.$eval('.progress-row[data-group="explode"]', (e) => (e as unknown as Shown).dataset.erred), '1');
        await waitUntil(async () => (await page.$eval('#failed', (e) => e.textContent ?? '')).includes('boom: <b>not markup</b>'), 'the error listed as text');
        assert.equal(await page.$$eval('#failed b', (b) => b.length), 0);
        assert.equal(await page.$$eval('.memory-row', (rows) => rows.length), 2);
        assert.deepEqual(errors, []);
      } finally {
        await page.close();
      }
    });
  });

  test('a performance report of what ran inside it opens with the scheduler stopped and shows only that', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubedask-perf-'));
    const file = join(dir, 'report.html');
    try {
      const inside = 13; // 12 cubes and their sum
      await withCluster({ workers: 2, threads: 1, dashboardPort: -1 }, async (_cluster, client) => {
        // Before the report: not in it.
        await client.gather(client.map(function before(x: number) { return x + 1; }, [1, 2, 3, 4, 5]));
        const out = await client.performanceReport(file, async () => {
          const cubes = client.map(function cube(x: number) { return x ** 3; }, Array.from({ length: 12 }, (_, i) => i));
          const total = client.submit(function sum(...xs: number[]) { return xs.reduce((a, b) => a + b, 0); }, ...cubes);
          return total.result();
        }, { title: 'cubes' });
        assert.equal(out, 4356);
        // A report is written also when the function throws; the error passes on.
        await assert.rejects(client.performanceReport(join(dir, 'failed.html'), () => { throw new Error('inside'); }), /inside/);
        assert.match(readFileSync(join(dir, 'failed.html'), 'utf8'), /<html/i);
      });
      // The cluster is closed: the file stands alone.
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      try {
        await page.goto(pathToFileURL(file).href);
        assert.equal(await page.title(), 'cubes');
        const computed = async () => Number(await page.$eval('canvas.task-stream', (c) => (c as unknown as Shown).dataset.total));
        await waitUntil(async () => (await computed()) >= inside, 'the report\'s stream');
        const groups = await page.$$eval('.timings tbody tr', (rows) => rows.map((r) => [(r as unknown as Shown).dataset.group, Number(r.children[1]!.textContent)]));
        const byGroup = new Map(groups as [string, number][]);
        assert.equal(byGroup.get('cube'), 12);
        assert.equal(byGroup.get('sum'), 1);
        assert.equal(byGroup.has('before'), false, 'what ran before the report is not in it');
        assert.deepEqual(errors, []);
      } finally {
        await page.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
