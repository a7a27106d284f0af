// The task stream: one row per worker thread plus one per worker for its transfers and spills,
// the whole session on a canvas. Only what the window shows is visited (binary search per
// lane) and entries narrower than a pixel are merged, so 100,000 entries draw in milliseconds.
// Wheel zooms, drag pans, double-click returns to the whole session (and follows it live).
import { KIND, forEachVisible, entryCount } from './model.js';
import { groupColor, KIND_COLORS } from './colors.js';
import { formatBytes, formatDuration } from './format.js';

const GUTTER = 120;
const AXIS = 18;
const KIND_NAMES = ['compute', 'transfer', 'spill', 'error'];

export function createTaskStream(container, model) {
  const canvas = document.createElement('canvas');
  canvas.className = 'task-stream';
  const tip = document.createElement('div');
  tip.className = 'tooltip';
  tip.hidden = true;
  container.replaceChildren(canvas, tip);
  const view = { t0: 0, t1: 1, follow: true };
  let rows = [];
  let pending = false;
  let drag;

  function layout() {
    const order = model.lanes.map((lane, index) => ({ ...lane, index }));
    order.sort((a, b) => (a.worker < b.worker ? -1 : a.worker > b.worker ? 1 : (a.thread < 0 ? 1e9 : a.thread) - (b.thread < 0 ? 1e9 : b.thread)));
    const threads = order.filter((l) => l.thread >= 0).length;
    const h = Math.max(3, Math.min(16, Math.floor(480 / Math.max(1, threads + order.length / 2))));
    let y = AXIS;
    rows = order.map((lane) => {
      const height = lane.thread < 0 ? Math.max(2, Math.ceil(h / 2)) : h;
      const row = { ...lane, y, height };
      y += height + (h > 6 ? 1 : 0);
      return row;
    });
    return y + 2;
  }

  function span() {
    if (view.follow) {
      view.t0 = model.startedAt;
      view.t1 = Math.max(model.now, model.startedAt + 1000);
    }
    return view;
  }

  function draw() {
    pending = false;
    const began = performance.now();
    const cssWidth = Math.max(200, container.clientWidth);
    const cssHeight = layout();
    const ratio = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(cssWidth * ratio) || canvas.height !== Math.round(cssHeight * ratio)) {
      canvas.width = Math.round(cssWidth * ratio);
      canvas.height = Math.round(cssHeight * ratio);
      canvas.style.width = `${cssWidth}px`;
      canvas.style.height = `${cssHeight}px`;
    }
    const ctx = canvas.getContext('2d');
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, cssWidth, cssHeight);
    const { t0, t1 } = span();
    const scale = (cssWidth - GUTTER) / (t1 - t0);
    drawAxis(ctx, t0, t1, scale, cssWidth, cssHeight);
    const { start, duration, group, kind } = model.stream;
    let visible = 0;
    let drawn = 0;
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    for (const row of rows) {
      ctx.fillStyle = row.thread < 0 ? '#f6f1e7' : '#f4f5f7';
      ctx.fillRect(GUTTER, row.y, cssWidth - GUTTER, row.height);
      if (row.height >= 8) {
        ctx.fillStyle = '#333';
        ctx.fillText(row.thread < 0 ? `${row.worker} ⇄` : `${row.worker} #${row.thread}`, 4, row.y + row.height / 2, GUTTER - 8);
      }
      // Whole pixels: an entry whose pixels are already painted is skipped, and neighbours
      // of one colour become one rectangle, so a lane costs at most one fill per pixel column.
      let painted = 0;
      let run;
      const flush = () => {
        if (!run) return;
        ctx.fillStyle = run.color;
        if (run.thin) ctx.fillRect(run.x, row.y + 1, run.end - run.x, Math.max(1, row.height - 2));
        else ctx.fillRect(run.x, row.y, run.end - run.x, row.height);
        drawn++;
      };
      forEachVisible(model, row.index, t0, t1, (i) => {
        visible++;
        const px0 = Math.floor(GUTTER + (start[i] - t0) * scale);
        const px1 = Math.max(px0 + 1, Math.round(GUTTER + (start[i] + duration[i] - t0) * scale));
        const a = Math.max(px0, painted, GUTTER);
        const b = Math.min(px1, cssWidth);
        if (b <= a) return;
        const k = kind[i];
        const color = k === KIND.compute ? groupColor(model.groups[group[i]] ?? '') : KIND_COLORS[KIND_NAMES[k]];
        const thin = k === KIND.transfer || k === KIND.spill;
        if (run && run.color === color && run.thin === thin && a <= run.end) run.end = b;
        else { flush(); run = { x: a, end: b, color, thin }; }
        painted = b;
      });
      flush();
    }
    // For tests and the curious: what the last frame covered.
    canvas.dataset.entries = String(visible);
    canvas.dataset.drawn = String(drawn);
    canvas.dataset.total = String(entryCount(model));
    canvas.dataset.lanes = String(rows.length);
    canvas.dataset.drawMs = (performance.now() - began).toFixed(2);
  }

  function drawAxis(ctx, t0, t1, scale, width, height) {
    const range = t1 - t0;
    const raw = range / Math.max(2, (width - GUTTER) / 90);
    const pow = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? raw;
    ctx.fillStyle = '#555';
    ctx.strokeStyle = '#e2e4e8';
    ctx.font = '10px system-ui, sans-serif';
    ctx.textBaseline = 'top';
    const first = Math.ceil((t0 - model.startedAt) / step) * step;
    for (let rel = first; model.startedAt + rel <= t1; rel += step) {
      const x = GUTTER + (model.startedAt + rel - t0) * scale;
      ctx.beginPath();
      ctx.moveTo(x + 0.5, AXIS - 4);
      ctx.lineTo(x + 0.5, height);
      ctx.stroke();
      ctx.fillText(rel === 0 ? '0 s' : formatDuration(rel), x + 2, 2);
    }
  }

  function request() {
    if (!pending) {
      pending = true;
      requestAnimationFrame(draw);
    }
  }

  function timeAt(x) {
    const { t0, t1 } = span();
    return t0 + ((x - GUTTER) / (canvas.clientWidth - GUTTER)) * (t1 - t0);
  }

  canvas.addEventListener('wheel', (e) => {
    e.preventDefault();
    const rect = canvas.getBoundingClientRect();
    const at = timeAt(Math.max(GUTTER, e.clientX - rect.left));
    const { t0, t1 } = span();
    const factor = Math.exp(Math.max(-1, Math.min(1, e.deltaY * 0.002)));
    const range = Math.max(0.05, (t1 - t0) * factor);
    view.t0 = at - ((at - t0) / (t1 - t0)) * range;
    view.t1 = view.t0 + range;
    view.follow = false;
    request();
  }, { passive: false });
  canvas.addEventListener('mousedown', (e) => {
    drag = { x: e.clientX, t0: span().t0, t1: view.t1 };
  });
  // Listeners outside the canvas go when the stream is destroyed (the canvas's go with it).
  const listening = new AbortController();
  window.addEventListener('mouseup', () => { drag = undefined; }, { signal: listening.signal });
  canvas.addEventListener('mousemove', (e) => {
    if (drag) {
      const dt = ((e.clientX - drag.x) / (canvas.clientWidth - GUTTER)) * (drag.t1 - drag.t0);
      if (dt !== 0) view.follow = false;
      view.t0 = drag.t0 - dt;
      view.t1 = drag.t1 - dt;
      tip.hidden = true;
      request();
      return;
    }
    hover(e);
  });
  canvas.addEventListener('mouseleave', () => { tip.hidden = true; });
  canvas.addEventListener('dblclick', () => { view.follow = true; request(); });

  function hover(e) {
    const rect = canvas.getBoundingClientRect();
    const x = e.clientX - rect.left;
    const y = e.clientY - rect.top;
    const row = rows.find((r) => y >= r.y && y < r.y + r.height + 1);
    const i = row && x >= GUTTER ? entryAt(row.index, x) : -1;
    if (i < 0) { tip.hidden = true; return; }
    const s = model.stream;
    const lines = [
      s.key[i] || '(spill)',
      `group: ${model.groups[s.group[i]] ?? ''}`,
      `${KIND_NAMES[s.kind[i]]} on ${row.worker}${row.thread >= 0 ? ` thread ${row.thread}` : ''}`,
      `duration: ${formatDuration(s.duration[i])}`,
    ];
    if (s.bytes[i] > 0) lines.push(`bytes: ${formatBytes(s.bytes[i])}`);
    tip.replaceChildren(...lines.map((line) => { const d = document.createElement('div'); d.textContent = line; return d; }));
    tip.hidden = false;
    tip.style.left = `${Math.min(x + 12, canvas.clientWidth - 260)}px`;
    tip.style.top = `${y + 12}px`;
  }

  /** The entry under pixel x of a lane, or the nearest within 3 pixels; -1 when none. */
  function entryAt(lane, x) {
    const t = timeAt(x);
    const tolerance = (3 / (canvas.clientWidth - GUTTER)) * (view.t1 - view.t0);
    let best = -1;
    let bestDistance = Infinity;
    forEachVisible(model, lane, t - tolerance, t + tolerance, (i) => {
      const s = model.stream.start[i];
      const e = s + model.stream.duration[i];
      const distance = t < s ? s - t : t > e ? t - e : 0;
      if (distance < bestDistance) { best = i; bestDistance = distance; }
    });
    return best;
  }

  window.addEventListener('resize', request, { signal: listening.signal });

  function destroy() {
    listening.abort();
    container.replaceChildren();
  }

  return { request, draw, view, destroy };
}
