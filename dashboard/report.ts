// The performance report: one self-contained HTML file (scripts, uPlot, styles and the history
// inlined) that shows what ran, with no scheduler behind it and from file://.
import type { HistorySnapshot } from '../scheduler/history/types.js';
import { staticFile, uplotFile } from './assets.js';

/** The report's scripts, in dependency order: each module's imports come before it. */
const REPORT_MODULES = ['format.js', 'colors.js', 'model.js', 'stream.js', 'panels.js', 'charts.js', 'view.js', 'report-main.js'];

export interface ReportOptions {
  title?: string;
}

export function renderReport(snapshot: HistorySnapshot, options: ReportOptions = {}): string {
  const title = escapeHtml(options.title ?? 'kubedask performance report');
  const period = escapeHtml(`${new Date(snapshot.startedAt).toISOString()} to ${new Date(snapshot.now).toISOString()}`);
  const parts: Record<string, string> = {
    TITLE: title,
    PERIOD: period,
    STYLE: closeNothing(`${uplotFile('uPlot.min.css')}\n${staticFile('dashboard.css')}`, 'style'),
    // JSON inside a script element: '<' escaped so no string in it can close the element.
    DATA: JSON.stringify(snapshot).replace(/</g, '\\u003c'),
    UPLOT: closeNothing(uplotFile('uPlot.iife.min.js'), 'script'),
    SCRIPT: closeNothing(reportScript(), 'script'),
  };
  // Split and join, not replace(): inlined code may hold '$&' and the like.
  return staticFile('report.html').split(/<!--([A-Z]+)-->/).map((piece, i) => (i % 2 === 1 ? parts[piece] ?? '' : piece)).join('');
}

let script: string | undefined;

/**
 * The browser modules joined into one classic script: a file:// page cannot load modules, so
 * each module's import lines are dropped and its exports become plain declarations in one
 * shared scope (their top-level names are unique across the modules).
 */
export function reportScript(): string {
  script ??= `(() => {\n'use strict';\n${REPORT_MODULES.map((name) => `// ${name}\n${asPlainScript(name, staticFile(name))}`).join('\n')}\n})();\n`;
  return script;
}

function asPlainScript(name: string, source: string): string {
  return source.split('\n').map((line) => {
    if (/^import\s/.test(line)) {
      if (!/^import\s+\{[^}]*\}\s+from\s+'\.\/[\w-]+\.js';\s*$/.test(line)) throw new Error(`dashboard/static/${name}: the report inlines only one-line named imports of sibling modules, not: ${line}`);
      return '';
    }
    return line.replace(/^export\s+(?=(async\s+)?(function|const|let|class)\s)/, '');
  }).join('\n');
}

function closeNothing(text: string, element: 'script' | 'style'): string {
  return text.replace(new RegExp(`</(${element})`, 'gi'), '<\\/$1');
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
