#!/usr/bin/env node
// Screenshots of the dashboard and of a performance report for docs/dashboard.md, taken in
// headless Chromium over the tests' fixture history (deterministic: the same pictures each run).
//   npm run build && node scripts/screenshots.mjs [outDir]     (default docs/images)
/* global document, window -- in the functions that run in the page */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (path) => import(pathToFileURL(join(root, 'dist', path)).href);
const { launchBrowser } = await dist('test/helpers/browser.js');
const { FixtureHistory, generateFixture } = await dist('test/helpers/history-fixture.js');
const { serveDashboard } = await dist('test/helpers/dashboard-server.js');
const { renderReport } = await dist('dashboard/report.js');

const out = process.argv[2] ?? join(root, 'docs', 'images');
mkdirSync(out, { recursive: true });
const fixture = generateFixture({ workers: 4, threads: 4, tasks: 3000, failures: 3 });
const history = new FixtureHistory(fixture, fixture.full.startedAt + Math.round((fixture.end - fixture.full.startedAt) * 0.85));
const server = await serveDashboard(history);
const browser = await launchBrowser();
const tmp = mkdtempSync(join(tmpdir(), 'kubedask-shots-'));
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, deviceScaleFactor: 1 });
  await page.goto(server.url);
  await page.waitForFunction((n) => Number(document.querySelector('canvas.task-stream')?.dataset.total) === n, history.snapshot().cursor);
  await page.waitForSelector('#scaling .uplot');
  const shot = async (name, selector) => {
    const target = selector ? page.locator(selector) : page;
    await target.screenshot({ path: join(out, name), ...(selector ? {} : { fullPage: true }) });
    console.log(join(out, name));
  };
  await shot('dashboard.png');
  await page.click('#failed details summary');
  await shot('dashboard-failed.png', '#failed');
  // Hover one entry to show its tooltip, then zoom into a second of the session.
  await page.evaluate(() => window.scrollTo(0, 0));
  const box = await page.locator('canvas.task-stream').boundingBox();
  await page.mouse.move(box.x + box.width * 0.3, box.y + 26);
  for (let i = 0; i < 8; i++) await page.mouse.wheel(0, -300);
  await page.waitForFunction(() => Number(document.querySelector('canvas.task-stream').dataset.entries) < 2000);
  await page.mouse.move(box.x + box.width * 0.3 + 2, box.y + 26);
  await page.waitForSelector('.tooltip:not([hidden])');
  await shot('dashboard-stream-zoomed.png', 'section:has(#stream)');
  const report = join(tmp, 'report.html');
  writeFileSync(report, renderReport(new FixtureHistory(fixture).snapshot(), { title: 'kubedask performance report' }));
  await page.goto(pathToFileURL(report).href);
  await page.waitForSelector('#memory-chart .uplot');
  await shot('report.png');
} finally {
  await browser.close();
  await server.close();
  rmSync(tmp, { recursive: true, force: true });
}
