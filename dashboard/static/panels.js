// The dashboard's DOM panels. Every string from the cluster (keys, groups, errors, names) goes
// in as textContent, never as HTML: a task's error cannot inject markup.
import { groupColor } from './colors.js';
import { formatBytes, formatClock, formatDuration, percent } from './format.js';

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === 'style') Object.assign(node.style, value);
    else if (name === 'text') node.textContent = value;
    else node.setAttribute(name, String(value));
  }
  for (const child of children) node.append(child);
  return node;
}

function bar(segments, title) {
  return el('div', { class: 'bar', title }, ...segments.filter((s) => s.fraction > 0).map((s) =>
    el('span', { class: `seg ${s.kind}`, style: { width: `${(s.fraction * 100).toFixed(3)}%`, ...(s.color ? { background: s.color } : {}) } })));
}

/** A bar per task group: done (its colour), erred (red), processing, queued. */
export function renderProgress(container, progress) {
  const rows = progress.map((p) => {
    const total = Math.max(1, p.total);
    const pct = percent(p.done, p.total);
    const label = `${p.done} / ${p.total} (${pct} %)${p.erred ? `, ${p.erred} erred` : ''}${p.processing ? `, ${p.processing} processing` : ''}`;
    return el('div', { class: 'progress-row', 'data-group': p.group, 'data-done-pct': pct, 'data-erred': p.erred },
      el('span', { class: 'name', text: p.group, title: p.group }),
      bar([
        { kind: 'done', fraction: p.done / total, color: groupColor(p.group) },
        { kind: 'erred', fraction: p.erred / total },
        { kind: 'processing', fraction: p.processing / total },
        { kind: 'queued', fraction: (p.queued + p.waiting) / total },
      ], label),
      el('span', { class: 'figure', text: label }));
  });
  container.replaceChildren(...(rows.length ? rows : [el('p', { class: 'empty', text: 'No tasks yet.' })]));
}

/** Managed, unmanaged and spilled bytes per worker, against its memory limit. */
export function renderMemory(container, workers) {
  const scale = Math.max(1, ...workers.map((w) => Math.max(w.memoryLimit, w.managed + w.unmanaged + w.spilled)));
  const rows = workers.map((w) => {
    const label = `${formatBytes(w.managed)} managed, ${formatBytes(w.unmanaged)} unmanaged, ${formatBytes(w.spilled)} spilled / ${w.memoryLimit > 0 ? formatBytes(w.memoryLimit) : 'no limit'}`;
    const b = bar([
      { kind: 'managed', fraction: w.managed / scale },
      { kind: 'unmanaged', fraction: w.unmanaged / scale },
      { kind: 'spilled', fraction: w.spilled / scale },
    ], label);
    if (w.memoryLimit > 0) b.append(el('span', { class: 'limit', style: { left: `${((w.memoryLimit / scale) * 100).toFixed(3)}%` } }));
    return el('div', { class: 'memory-row', 'data-worker': w.name, 'data-managed': w.managed },
      el('span', { class: 'name', text: w.name, title: w.name }), b, el('span', { class: 'figure', text: label }));
  });
  container.replaceChildren(...(rows.length ? rows : [el('p', { class: 'empty', text: 'No workers.' })]));
}

/** Tasks assigned to each worker and its occupancy (expected ms of work). */
export function renderWorkload(container, workers) {
  const most = Math.max(1, ...workers.map((w) => w.processing));
  const longest = Math.max(1, ...workers.map((w) => w.occupancyMs));
  const rows = workers.map((w) => el('div', { class: 'workload-row', 'data-worker': w.name },
    el('span', { class: 'name', text: w.name, title: w.name }),
    bar([{ kind: 'processing', fraction: w.processing / most }], `${w.processing} processing`),
    bar([{ kind: 'occupancy', fraction: w.occupancyMs / longest }], `occupancy ${formatDuration(w.occupancyMs)}`),
    el('span', { class: 'figure', text: `${w.processing} tasks, ${formatDuration(w.occupancyMs)}` })));
  container.replaceChildren(...(rows.length ? rows : [el('p', { class: 'empty', text: 'No workers.' })]));
}

const WORKER_COLUMNS = [
  ['worker', (w) => w.name], ['address', (w) => w.address], ['group', (w) => w.group], ['threads', (w) => w.nthreads],
  ['processing', (w) => w.processing], ['executing', (w) => w.executing], ['keys', (w) => w.holds],
  ['managed', (w) => formatBytes(w.managed)], ['unmanaged', (w) => formatBytes(w.unmanaged)],
  ['spilled', (w) => formatBytes(w.spilled)], ['limit', (w) => (w.memoryLimit > 0 ? formatBytes(w.memoryLimit) : '-')],
  ['occupancy', (w) => formatDuration(w.occupancyMs)], ['state', (w) => (w.retiring ? 'retiring' : 'running')],
];

export function renderWorkersTable(container, workers) {
  const head = el('tr', {}, ...WORKER_COLUMNS.map(([name]) => el('th', { text: name })));
  const body = workers.map((w) => el('tr', { 'data-worker': w.name }, ...WORKER_COLUMNS.map(([, value]) => el('td', { text: String(value(w)) }))));
  container.replaceChildren(el('table', { class: 'workers' }, el('thead', {}, head), el('tbody', {}, ...body)));
}

const LIST_CAP = 200;

/**
 * Appends the failures not shown yet (the list only grows, so an opened stack stays open),
 * newest first, at most LIST_CAP of them in the page.
 */
export function renderFailed(container, failed) {
  if (failed.length === 0) {
    container.replaceChildren(el('p', { class: 'empty', text: 'No failed tasks.' }));
    container.dataset.shown = '0';
    return;
  }
  const shown = Number(container.dataset.shown ?? 0);
  if (shown === 0) container.replaceChildren();
  for (const f of failed.slice(Math.max(shown, failed.length - LIST_CAP))) {
    container.prepend(el('details', { class: 'failed', 'data-key': f.key },
      el('summary', {},
        el('span', { class: 'key', text: f.key }),
        el('span', { class: 'message', text: `${f.name}: ${f.message}` }),
        el('span', { class: 'where', text: `${f.group} on ${f.worker} at ${formatClock(f.t)}` })),
      el('pre', { class: 'stack', text: f.stack || '(no stack)' })));
  }
  while (container.childElementCount > LIST_CAP) container.lastElementChild.remove();
  container.dataset.shown = String(failed.length);
}

export function renderDecisions(container, decisions) {
  const rows = decisions.slice(-LIST_CAP).reverse().map((d) => el('tr', {},
    el('td', { text: formatClock(d.t) }), el('td', { text: d.source }), el('td', { text: d.group }),
    el('td', { text: `${d.from} → ${d.to}` }), el('td', { text: d.reason })));
  container.replaceChildren(rows.length
    ? el('table', { class: 'decisions' }, el('thead', {}, el('tr', {}, ...['time', 'source', 'group', 'workers', 'reason'].map((h) => el('th', { text: h })))), el('tbody', {}, ...rows))
    : el('p', { class: 'empty', text: 'No scaling decisions.' }));
}

/** The header's figures: workers, threads, tasks, bytes stored. */
export function renderSummary(container, model) {
  const stored = model.workers.reduce((sum, w) => sum + w.managed, 0);
  const spilled = model.workers.reduce((sum, w) => sum + w.spilled, 0);
  const threads = model.workers.reduce((sum, w) => sum + w.nthreads, 0);
  const done = model.progress.reduce((sum, p) => sum + p.done, 0);
  const total = model.progress.reduce((sum, p) => sum + p.total, 0);
  const figures = [
    ['workers', String(model.workers.length)], ['threads', String(threads)], ['tasks', `${done} / ${total}`],
    ['failed', String(model.failed.length)], ['bytes stored', formatBytes(stored)], ['spilled', formatBytes(spilled)],
    ['session', formatDuration(model.now - model.startedAt)],
  ];
  if (model.dropped > 0) figures.push(['entries not kept', String(model.dropped)]);
  container.replaceChildren(...figures.map(([name, value]) => el('div', { class: 'figure-box', 'data-figure': name },
    el('span', { class: 'value', text: value }), el('span', { class: 'label', text: name }))));
}
