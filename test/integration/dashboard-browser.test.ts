// The dashboard and the performance report in headless Chromium, over a fixture history: what a
// person sees (stream entries drawn, progress, memory, errors) and that drawing stays bounded
// with 100,000 entries.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { BROWSER_HOOK, launchBrowser } from '../helpers/browser.js';
import { FixtureHistory, generateFixture } from '../helpers/history-fixture.js';
import { serveDashboard, type DashboardFixtureServer } from '../helpers/dashboard-server.js';
import { waitUntil } from '../helpers/wait.js';
import { renderReport } from '../../dashboard/report.js';

/** What the page's elements expose, for code that runs in the page (no DOM types here). */
interface Shown { dataset: Record<string, string | undefined>; clientWidth: number; innerText: string }

const streamFigure = (page: Page, name: 'total' | 'entries' | 'drawn' | 'lanes' | 'drawMs') =>
  page.$eval('canvas.task-stream', (c, n) => Number((c as unknown as Shown).dataset[n] ?? -1), name);

/** Opens a page; `requested` gets the path of each request it makes. */
async function openPage(browser: Browser, url: string, requested: string[] = []): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('request', (r) => requested.push(new URL(r.url()).pathname));
  await page.goto(url);
  await page.waitForSelector('canvas.task-stream');
  (page as Page & { errors: string[] }).errors = errors;
  return page;
}

const pageErrors = (page: Page) => (page as Page & { errors: string[] }).errors;

describe('dashboard in a browser', () => {
  let browser: Browser;
  before(async () => { browser = await launchBrowser(); }, BROWSER_HOOK);
  after(async () => { await browser?.close(); });

  describe('over a session half done, then finished', () => {
    const fixture = generateFixture({ workers: 4, threads: 4, tasks: 1200, failures: 3 });
    const history = new FixtureHistory(fixture, fixture.full.startedAt + (fixture.end - fixture.full.startedAt) / 2);
    let server: DashboardFixtureServer;
    let page: Page;
    before(async () => {
      server = await serveDashboard(history);
      page = await openPage(browser, server.url);
    });
    after(async () => { await page?.close(); await server?.close(); });

    test('draws the stream entries the history holds', async () => {
      const expected = history.snapshot().cursor;
      assert.ok(expected > 0 && expected < fixture.full.cursor, 'the fixture is half done');
      await waitUntil(async () => (await streamFigure(page, 'total')) >= expected, 'the stream to hold the snapshot');
      assert.ok(await streamFigure(page, 'entries') >= expected, 'the whole session is in view');
      assert.ok(await streamFigure(page, 'drawn') > 0);
      assert.equal(await streamFigure(page, 'lanes'), fixture.full.lanes.length);
    });

    test('shows each group\'s progress, each worker\'s memory and the failed tasks\' errors, as text', async () => {
      const snapshot = history.snapshot();
      for (const p of snapshot.progress) {
        const pct = await page.$eval(`.progress-row[data-group="${p.group}"]`, (e) => Number((e as unknown as Shown).dataset.donePct));
        assert.equal(pct, Math.floor((p.done / p.total) * 100), `progress of ${p.group}`);
        const text = await page.$eval(`.progress-row[data-group="${p.group}"] .figure`, (e) => e.textContent);
        assert.match(text ?? '', new RegExp(`^${p.done} / ${p.total} `));
      }
      const memory = await page.$$eval('.memory-row', (rows) => rows.map((r) => [(r as unknown as Shown).dataset.worker, Number((r as unknown as Shown).dataset.managed)]));
      assert.deepEqual(memory, snapshot.workers.map((w) => [w.name, w.managed]));
      assert.equal(await page.$$eval('#workers tbody tr', (rows) => rows.length), snapshot.workers.length);
      await waitUntil(async () => (await page.$$eval('#failed details', (d) => d.length)) === snapshot.failed.length, 'the failed tasks listed');
      const listed = await page.$eval('#failed', (e) => e.textContent ?? '');
      for (const f of snapshot.failed) assert.ok(listed.includes(f.message), `the error of ${f.key} is shown`);
    });

    test('follows the session live: new entries, progress reaching 100 %', async () => {
      history.clock = fixture.end;
      await waitUntil(async () => (await streamFigure(page, 'total')) === fixture.full.cursor, 'every entry pushed to the page');
      await waitUntil(async () => (await page.$eval('.progress-row[data-group="read-parquet"]', (e) => (e as unknown as Shown).dataset.donePct)) === '100', 'read-parquet at 100 %');
      const score = fixture.full.failed.length;
      assert.equal(await page.$eval('.progress-row[data-group="score"]', (e) => Number((e as unknown as Shown).dataset.erred)), score);
      assert.equal(await page.$eval('#scaling', (e) => Number((e as unknown as Shown).dataset.points)), fixture.full.cluster.t.length);
      assert.deepEqual(pageErrors(page), []);
    });

    test('shows an error\'s markup as text, not as HTML', async () => {
      const hostile = fixture.full.failed.find((f) => f.message.includes('<img'));
      assert.ok(hostile && history.snapshot().failed.includes(hostile), 'the finished session has a failure with markup in its message');
      const listed = await page.$eval('#failed', (e) => e.textContent ?? '');
      for (const f of fixture.full.failed) assert.ok(listed.includes(f.message), `the error of ${f.key} is shown`);
      assert.equal(await page.$$eval('#failed img', (imgs) => imgs.length), 0);
      assert.equal(await page.evaluate(() => (globalThis as unknown as { injected?: number }).injected), undefined);
      await page.click(`#failed details[data-key="${hostile.key}"] summary`);
      assert.match(await page.$eval(`#failed details[data-key="${hostile.key}"] pre.stack`, (e) => (e as unknown as Shown).innerText), /at score \(user\.js/);
    });
  });

  describe('with 100,000 entries', () => {
    const fixture = generateFixture({ workers: 16, threads: 4, tasks: 100_000, failures: 20, seed: 3 });
    let server: DashboardFixtureServer;
    let page: Page;
    before(async () => {
      server = await serveDashboard(new FixtureHistory(fixture));
      page = await openPage(browser, server.url);
    });
    after(async () => { await page?.close(); await server?.close(); });

    test('draws only what is visible, merging sub-pixel entries', async () => {
      const total = fixture.full.cursor;
      assert.ok(total >= 100_000);
      await waitUntil(async () => (await streamFigure(page, 'total')) === total, 'all entries loaded');
      const canvasWidth = await page.$eval('canvas.task-stream', (c) => (c as unknown as Shown).clientWidth);
      const lanes = await streamFigure(page, 'lanes');
      const drawnWhole = await streamFigure(page, 'drawn');
      assert.equal(await streamFigure(page, 'entries'), total);
      // At most about one rectangle per pixel column per lane and colour change, far fewer than entries.
      assert.ok(drawnWhole < total / 2 && drawnWhole <= lanes * canvasWidth, `drew ${drawnWhole} rectangles for ${total} entries`);
      const box = (await page.$('canvas.task-stream'))!;
      const rect = (await box.boundingBox())!;
      await page.mouse.move(rect.x + rect.width * 0.6, rect.y + 40);
      for (let i = 0; i < 12; i++) await page.mouse.wheel(0, -400);
      await waitUntil(async () => (await streamFigure(page, 'entries')) < total / 20, 'the zoomed view to visit a small share of the entries');
      const zoomed = await streamFigure(page, 'entries');
      assert.ok(zoomed > 0, 'the zoomed view still shows entries');
      console.log(`100k entries: whole session drew ${drawnWhole} rectangles; zoomed in visits ${zoomed} entries in ${await streamFigure(page, 'drawMs')} ms`);
      await page.dblclick('canvas.task-stream', { position: { x: 400, y: 40 } });
      await waitUntil(async () => (await streamFigure(page, 'entries')) === total, 'double-click to show the whole session again');
      assert.deepEqual(pageErrors(page), []);
    });
  });

  describe('when its event stream breaks', () => {
    const fixture = generateFixture({ workers: 3, threads: 2, tasks: 600, failures: 2, seed: 5 });
    const history = new FixtureHistory(fixture, fixture.full.startedAt + (fixture.end - fixture.full.startedAt) / 3);
    const requested: string[] = [];
    const count = (path: string) => requested.filter((p) => p === path).length;
    const live = async () => (await page.$eval('#connection', (e) => e.className)) === 'live';
    const charts = (id: string) => page.$$eval(`#${id} .uplot`, (plots) => plots.length);
    const keys = () => page.evaluate(() => (globalThis as unknown as { kubedask: { model: { stream: { key: string[] } } } }).kubedask.model.stream.key);
    let server: DashboardFixtureServer;
    let page: Page;
    before(async () => {
      server = await serveDashboard(history);
      page = await openPage(browser, server.url, requested);
    });
    after(async () => { await page?.close(); await server?.close(); });

    test('resumes from where it was: one chart each, every entry once, one snapshot', async () => {
      await waitUntil(async () => count('/api/events') === 1 && await live(), 'the event stream');
      for (const streams of [2, 3]) {
        server.breakConnections();
        await waitUntil(async () => count('/api/events') === streams && await live(), `event stream ${streams} after a break`);
      }
      history.clock = fixture.end;
      await waitUntil(async () => (await streamFigure(page, 'total')) === fixture.full.cursor, 'every entry after the breaks');
      await waitUntil(async () => (await page.$eval('#scaling', (e) => Number((e as unknown as Shown).dataset.points))) === fixture.full.cluster.t.length, 'every sample');
      assert.deepEqual(await keys(), fixture.full.stream.key, 'every entry once, in order');
      assert.equal(await charts('scaling'), 1);
      assert.equal(await charts('stored'), 1);
      assert.equal(count('/api/history'), 1, 'the snapshot loaded once');
      assert.deepEqual(pageErrors(page), []);
    });

    test('starts over from a fresh snapshot when the scheduler refuses its position, and draws it once', async () => {
      await page.route((url) => url.pathname === '/api/events', (route) => route.fulfill({ status: 409, body: 'another scheduler' }), { times: 1 });
      server.breakConnections();
      await waitUntil(async () => count('/api/history') === 2 && await live(), 'a fresh snapshot, then the stream again');
      await waitUntil(async () => (await streamFigure(page, 'total')) === fixture.full.cursor, 'every entry');
      assert.deepEqual(await keys(), fixture.full.stream.key, 'every entry once, in order');
      assert.equal(await charts('scaling'), 1);
      assert.equal(await charts('stored'), 1);
      assert.equal(await page.$$eval('#stream canvas', (c) => c.length), 1);
      assert.equal(await page.$$eval('#failed details', (d) => d.length), fixture.full.failed.length);
      assert.deepEqual(pageErrors(page), []);
    });
  });

  describe('a performance report', () => {
    const fixture = generateFixture({ workers: 3, threads: 2, tasks: 600, failures: 2, seed: 9 });
    const dir = mkdtempSync(join(tmpdir(), 'kubedask-report-'));
    after(() => rmSync(dir, { recursive: true, force: true }));

    test('opens from file:// with no server and shows the stream, per-group timings and memory', async () => {
      const snapshot = new FixtureHistory(fixture).snapshot();
      const file = join(dir, 'report.html');
      writeFileSync(file, renderReport(snapshot, { title: 'Report <of> "tests"' }));
      const page = await openPage(browser, pathToFileURL(file).href);
      try {
        await waitUntil(async () => (await streamFigure(page, 'total')) === snapshot.cursor, 'the report\'s stream');
        assert.ok(await streamFigure(page, 'drawn') > 0);
        assert.equal(await page.title(), 'Report <of> "tests"');
        const groups = await page.$$eval('.timings tbody tr', (rows) => rows.map((r) => [(r as unknown as Shown).dataset.group, Number(r.children[1].textContent)]));
        const computed = new Map<string, number>();
        snapshot.stream.kind.forEach((k, i) => { if (k === 0) computed.set(snapshot.groups[snapshot.stream.group[i]], (computed.get(snapshot.groups[snapshot.stream.group[i]]) ?? 0) + 1); });
        assert.deepEqual(new Map(groups as [string, number][]), computed);
        assert.equal(await page.$eval('#memory-chart', (e) => Number((e as unknown as Shown).dataset.points)), snapshot.memory.t.length);
        assert.equal(await page.$$eval('#failed details', (d) => d.length), snapshot.failed.length);
        assert.equal(await page.$$eval('#failed img', (imgs) => imgs.length), 0);
        assert.deepEqual(pageErrors(page), []);
      } finally {
        await page.close();
      }
    });
  });
});
