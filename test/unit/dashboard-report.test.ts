// renderReport's file: one page with everything inlined, whose text cannot be broken out of by
// what tasks named themselves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderReport, reportScript } from '../../dashboard/report.js';
import { FixtureHistory, generateFixture } from '../helpers/history-fixture.js';

const snapshot = () => new FixtureHistory(generateFixture({ workers: 2, threads: 2, tasks: 200, failures: 1, seed: 4 })).snapshot();

test('the report\'s script is one valid classic script, with no imports left', () => {
  const script = reportScript();
  assert.doesNotMatch(script, /^\s*(import|export)\s/m);
  assert.doesNotThrow(() => new Function(script));
});

test('the report inlines everything: no file, server or CDN to fetch', () => {
  const html = renderReport(snapshot());
  assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=|<img|\bfetch\(|EventSource/);
  assert.match(html, /<title>kubedask performance report<\/title>/);
});

test('keys, errors and the title cannot close the data or inject markup', () => {
  const s = snapshot();
  s.stream.key[0] = '</script><script>window.hacked=1</script>';
  s.failed[0].message = '<!-- $& $1 </style>';
  const html = renderReport(s, { title: '<b>title</b> & "quotes"' });
  assert.equal(html.match(/<script/g)?.length, 3, 'only the report\'s three script elements');
  assert.match(html, /<title>&#60;b&#62;title&#60;\/b&#62; &#38; &#34;quotes&#34;<\/title>/);
  const data = html.slice(html.indexOf('id="kubedask-data">') + 'id="kubedask-data">'.length, html.indexOf('</script>'));
  assert.deepEqual(JSON.parse(data), s, 'the inlined data reads back as the snapshot');
});
