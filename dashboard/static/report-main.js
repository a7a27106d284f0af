// The performance report: the same panels as the dashboard, drawn once from the history
// inlined in the file (no server; it opens from file://).
import { createModel, groupTimings } from './model.js';
import { createView } from './view.js';
import { el } from './panels.js';
import { formatDuration } from './format.js';
import { groupColor } from './colors.js';

function renderTimings(container, model) {
  const rows = groupTimings(model).sort((a, b) => b.totalMs - a.totalMs).map((r) => el('tr', { 'data-group': r.group },
    el('td', {}, el('span', { class: 'swatch', style: { background: groupColor(r.group) } }), el('span', { text: r.group })),
    el('td', { text: String(r.count) }), el('td', { text: formatDuration(r.totalMs) }),
    el('td', { text: formatDuration(r.meanMs) }), el('td', { text: String(r.errors) })));
  container.replaceChildren(el('table', { class: 'timings' },
    el('thead', {}, el('tr', {}, ...['group', 'tasks', 'total', 'mean', 'errors'].map((h) => el('th', { text: h })))),
    el('tbody', {}, ...rows)));
}

const snapshot = JSON.parse(document.getElementById('kubedask-data').textContent);
const model = createModel(snapshot);
const view = createView(model);
window.kubedask = { model, view };
document.getElementById('scheduler').textContent = snapshot.scheduler;
renderTimings(document.getElementById('timings'), model);
view.render();
