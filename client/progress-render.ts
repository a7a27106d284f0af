// Progress bars as text: one line per task group, then a summary line. Pure (counts in, lines
// out) so that what the terminal shows is tested exactly; progress.ts does the drawing.
import type { TaskGroupProgress } from './progress-types.js';

export interface RenderOptions {
  /** Columns available: lines fit (names are shortened, then the bar) down to about 30 columns. */
  width: number;
  /** ANSI colours: erred tasks in red. */
  color: boolean;
}

const RED = '\x1b[31m';
const RESET = '\x1b[0m';
const DONE = '█';
const ERRED = 'x';
const TODO = '░';
const MAX_NAME = 40;
const MIN_NAME = 8;
const MIN_BAR = 5;

const red = (text: string, color: boolean): string => (color && text ? `${RED}${text}${RESET}` : text);

/** Shortened to `width` characters, ending in '…' when cut. */
function fit(text: string, width: number): string {
  return text.length <= width ? text.padEnd(width) : `${text.slice(0, Math.max(0, width - 1))}…`;
}

/** Finished share, floored: 100 % only once every task is done or erred. */
function percent(g: TaskGroupProgress): number {
  return g.total === 0 ? 100 : Math.floor((100 * (g.done + g.erred)) / g.total);
}

function bar(g: TaskGroupProgress, cells: number, color: boolean): string {
  if (g.total === 0) return DONE.repeat(cells);
  const done = Math.floor((cells * g.done) / g.total);
  const finished = Math.floor((cells * (g.done + g.erred)) / g.total);
  return DONE.repeat(done) + red(ERRED.repeat(finished - done), color) + TODO.repeat(cells - finished);
}

/**
 * One line per group, in the order given, aligned:
 * `name  |████░░░░|  50% 2/4 1 erred`. Done cells are full blocks, erred ones 'x' (red in
 * colour), the rest shaded; the counts are done/total, then the erred count when there is one.
 */
export function renderBars(groups: readonly TaskGroupProgress[], { width, color }: RenderOptions): string[] {
  if (groups.length === 0) return [];
  const digits = Math.max(...groups.map((g) => String(g.total).length));
  const erredText = (g: TaskGroupProgress) => (g.erred > 0 ? ` ${g.erred} erred` : '');
  const erredWidth = Math.max(...groups.map((g) => erredText(g).length));
  // name + ' |' + bar + '| ' + 'ppp% ' + done/total + erred: the bar takes what is left.
  const fixed = 2 + 2 + 5 + 2 * digits + 1 + erredWidth;
  const longest = Math.max(...groups.map((g) => g.group.length));
  // Names take at most a third of the line, so the bars stay long enough to read.
  const name = Math.max(Math.min(longest, MAX_NAME, Math.floor(width / 3), width - fixed - MIN_BAR), Math.min(longest, MIN_NAME));
  const cells = Math.max(MIN_BAR, width - fixed - name);
  return groups.map((g) => {
    const counts = `${String(g.done).padStart(digits)}/${String(g.total).padStart(digits)}`;
    const erred = g.erred > 0 ? ` ${red(`${g.erred} erred`, color)}` : '';
    return `${fit(g.group, name)} |${bar(g, cells, color)}| ${String(percent(g)).padStart(3)}% ${counts}${erred}`;
  });
}

/** One line for the end: `12 tasks in 3 groups, 1.25 s: 11 done, 1 erred` (erred in red). */
export function renderSummary(groups: readonly TaskGroupProgress[], elapsedMs: number, color: boolean): string {
  const sum = (pick: (g: TaskGroupProgress) => number) => groups.reduce((n, g) => n + pick(g), 0);
  const total = sum((g) => g.total);
  const done = sum((g) => g.done);
  const erred = sum((g) => g.erred);
  const left = total - done - erred;
  const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  const parts = [`${done} done`];
  if (erred > 0) parts.push(red(`${erred} erred`, color));
  if (left > 0) parts.push(`${left} not finished`);
  return `${plural(total, 'task')} in ${plural(groups.length, 'group')}, ${(elapsedMs / 1000).toFixed(2)} s: ${parts.join(', ')}`;
}
