// Time series drawn with uPlot (loaded as the global `uPlot`, by the page or inlined by the
// report): worker count and adaptive targets with the scaling decisions, bytes stored, and
// memory per worker.
import { groupColor, KIND_COLORS } from './colors.js';
import { formatBytes } from './format.js';

const PALETTE = ['#1f77b4', '#2ca02c', '#9467bd', '#8c564b', '#17becf', '#bcbd22', '#7f7f7f', '#e377c2'];

function widthOf(container) {
  return Math.max(300, container.clientWidth - 4);
}

/** A chart that rebuilds itself when its series change and otherwise only swaps its data. */
function chart(container, build) {
  let plot;
  let shape = '';
  return {
    update(model) {
      const { series, data, options } = build(model);
      const next = series.map((s) => s.label).join('\u0000');
      if (!plot || next !== shape) {
        plot?.destroy();
        shape = next;
        plot = new uPlot({ width: widthOf(container), height: 180, series: [{}, ...series.map((one) => ({ points: { show: false }, ...one }))], legend: { live: false }, ...options }, data, container);
      } else {
        plot.setData(data);
      }
      container.dataset.points = String(data[0].length);
    },
    resize() {
      plot?.setSize({ width: widthOf(container), height: 180 });
    },
    destroy() {
      plot?.destroy();
      plot = undefined;
      shape = '';
      delete container.dataset.points;
    },
  };
}

const seconds = (t) => t.map((v) => v / 1000);

/** Workers connected and the adaptive target per worker group, with a mark per decision. */
export function createScalingChart(container) {
  return chart(container, (model) => {
    const groups = Object.keys(model.cluster.targets).sort();
    const series = [
      { label: 'workers', stroke: '#333', width: 2, paths: uPlot.paths.stepped({ align: 1 }) },
      ...groups.map((g, i) => ({ label: `target ${g}`, stroke: PALETTE[i % PALETTE.length], dash: [6, 4], paths: uPlot.paths.stepped({ align: 1 }) })),
    ];
    const data = [seconds(model.cluster.t), model.cluster.workers, ...groups.map((g) => model.cluster.targets[g])];
    const options = { axes: [{}, { label: 'workers' }], scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max + 1)] } }, plugins: [decisionMarks(model)] };
    return { series, data, options };
  });
}

/** Draws a dashed vertical line at each scaling decision. */
function decisionMarks(model) {
  return {
    hooks: {
      draw: [(u) => {
        const ctx = u.ctx;
        ctx.save();
        ctx.strokeStyle = KIND_COLORS.spill;
        ctx.fillStyle = KIND_COLORS.spill;
        ctx.setLineDash([3, 3]);
        for (const d of model.decisions) {
          const x = Math.round(u.valToPos(d.t / 1000, 'x', true));
          if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
          ctx.beginPath();
          ctx.moveTo(x, u.bbox.top);
          ctx.lineTo(x, u.bbox.top + u.bbox.height);
          ctx.stroke();
          ctx.beginPath();
          ctx.moveTo(x - 4, u.bbox.top);
          ctx.lineTo(x + 4, u.bbox.top);
          ctx.lineTo(x, u.bbox.top + 6);
          ctx.fill();
        }
        ctx.restore();
      }],
    },
  };
}

const bytesAxis = { values: (_u, ticks) => ticks.map((v) => formatBytes(v)), size: 70 };

/** Bytes held by all workers, and tasks processing and queued. */
export function createStoredChart(container) {
  return chart(container, (model) => ({
    series: [
      { label: 'bytes stored', stroke: '#1f77b4', fill: 'rgba(31,119,180,0.15)', scale: 'bytes', value: (_u, v) => (v == null ? '-' : formatBytes(v)) },
      { label: 'processing', stroke: '#2ca02c', scale: 'tasks' },
      { label: 'queued', stroke: '#bcbd22', scale: 'tasks' },
    ],
    data: [seconds(model.cluster.t), model.cluster.memory, model.cluster.processing, model.cluster.queued],
    options: { axes: [{}, { scale: 'bytes', ...bytesAxis }, { scale: 'tasks', side: 1, grid: { show: false } }] },
  }));
}

/** Managed plus unmanaged memory of each worker over time (spilled bytes dashed). */
export function createMemoryChart(container) {
  return chart(container, (model) => {
    const names = Object.keys(model.memory.workers).sort();
    const series = [];
    const data = [seconds(model.memory.t)];
    names.forEach((name) => {
      const m = model.memory.workers[name];
      const color = groupColor(name);
      series.push({ label: name, stroke: color, width: 1.5, value: (_u, v) => (v == null ? '-' : formatBytes(v)) });
      data.push(m.managed.map((v, j) => (v == null ? null : v + (m.unmanaged[j] ?? 0))));
      if (m.spilled.some((v) => v)) {
        series.push({ label: `${name} spilled`, stroke: color, dash: [4, 4], width: 1, value: (_u, v) => (v == null ? '-' : formatBytes(v)) });
        data.push(m.spilled);
      }
    });
    return { series, data, options: { axes: [{}, bytesAxis] } };
  });
}
