// The dashboard of a real LocalCluster in headless Chromium: a graph with one failing task
// reaches 100 % for the group that succeeded, with stream entries and worker memory shown, and
// the failure's error listed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
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
});
