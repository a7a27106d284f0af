// The page's copy of a session's history: the scheduler's snapshot, then its deltas appended
// (shapes in scheduler/history/types.ts). No DOM here. Each lane keeps its entries' indexes
// sorted by start, so the task stream finds what a time window shows by binary search.
export const KIND = { compute: 0, transfer: 1, spill: 2, error: 3 };
const COLUMNS = ['start', 'duration', 'lane', 'group', 'kind', 'key', 'bytes'];

export function createModel(snapshot) {
  const model = {
    ...snapshot,
    stream: Object.fromEntries(COLUMNS.map((c) => [c, []])),
    cluster: { t: [], workers: [], processing: [], queued: [], memory: [], targets: {} },
    memory: { t: [], workers: {} },
    decisions: [], failed: [], workerEvents: [],
    byLane: [], maxDuration: [],
  };
  appendColumns(model, snapshot.stream);
  appendSeries(model, snapshot);
  model.decisions.push(...snapshot.decisions);
  model.failed.push(...snapshot.failed);
  model.workerEvents.push(...snapshot.workerEvents);
  return model;
}

/** What the page has, as the next /api/events request states it. */
export function deltaRequest(model) {
  return { cursor: model.cursor, lanes: model.lanes.length, groups: model.groups.length, since: model.now };
}

export function applyDelta(model, delta) {
  model.lanes.push(...delta.lanes);
  model.groups.push(...delta.groups);
  appendColumns(model, delta.stream);
  appendSeries(model, delta);
  model.decisions.push(...delta.decisions);
  model.failed.push(...delta.failed);
  model.workerEvents.push(...delta.workerEvents);
  model.progress = delta.progress;
  model.workers = delta.workers;
  model.now = Math.max(model.now, delta.now);
  model.cursor = delta.cursor;
  model.dropped = delta.dropped;
}

export function entryCount(model) {
  return model.stream.start.length;
}

function appendColumns(model, stream) {
  const first = model.stream.start.length;
  for (const c of COLUMNS) {
    const to = model.stream[c];
    for (const v of stream[c]) to.push(v);
  }
  for (let i = first; i < model.stream.start.length; i++) indexEntry(model, i);
}

function indexEntry(model, i) {
  const { start, duration, lane } = model.stream;
  const l = lane[i];
  while (model.byLane.length <= l) { model.byLane.push([]); model.maxDuration.push(0); }
  const list = model.byLane[l];
  // Entries arrive as they finish: nearly always in start order within a lane.
  if (list.length === 0 || start[list[list.length - 1]] <= start[i]) list.push(i);
  else list.splice(lowerBound(list, start, start[i]), 0, i);
  if (duration[i] > model.maxDuration[l]) model.maxDuration[l] = duration[i];
}

/** The first position in `list` (indexes sorted by start) whose entry starts at or after t. */
export function lowerBound(list, start, t) {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (start[list[mid]] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Calls fn(i) for each entry of `lane` that overlaps [t0, t1], in start order. */
export function forEachVisible(model, lane, t0, t1, fn) {
  const list = model.byLane[lane];
  if (!list) return;
  const { start, duration } = model.stream;
  for (let p = lowerBound(list, start, t0 - model.maxDuration[lane]); p < list.length; p++) {
    const i = list[p];
    const s = start[i];
    if (s > t1) break;
    if (s + duration[i] >= t0) fn(i);
  }
}

function appendSeries(model, from) {
  const c = model.cluster;
  const n = c.t.length;
  for (const name of ['t', 'workers', 'processing', 'queued', 'memory']) c[name].push(...from.cluster[name]);
  for (const [group, values] of Object.entries(from.cluster.targets)) {
    c.targets[group] ??= new Array(n).fill(null);
    c.targets[group].push(...values);
  }
  for (const values of Object.values(c.targets)) while (values.length < c.t.length) values.push(null);
  const m = model.memory;
  const before = m.t.length;
  m.t.push(...from.memory.t);
  for (const [worker, series] of Object.entries(from.memory.workers)) {
    const to = (m.workers[worker] ??= { managed: new Array(before).fill(null), unmanaged: new Array(before).fill(null), spilled: new Array(before).fill(null) });
    to.managed.push(...series.managed);
    to.unmanaged.push(...series.unmanaged);
    to.spilled.push(...series.spilled);
  }
  // A worker the history no longer names had its series dropped (departed long ago): so here.
  for (const worker of Object.keys(m.workers)) if (!Object.hasOwn(from.memory.workers, worker)) delete m.workers[worker];
}

/** Per task group: computations finished, their total and mean duration, and errors. */
export function groupTimings(model) {
  const { group, kind, duration } = model.stream;
  const rows = model.groups.map((name) => ({ group: name, count: 0, totalMs: 0, meanMs: 0, errors: 0 }));
  for (let i = 0; i < kind.length; i++) {
    const row = rows[group[i]];
    if (!row) continue;
    if (kind[i] === KIND.compute) { row.count++; row.totalMs += duration[i]; }
    else if (kind[i] === KIND.error) row.errors++;
  }
  for (const row of rows) row.meanMs = row.count > 0 ? row.totalMs / row.count : 0;
  return rows.filter((r) => r.count > 0 || r.errors > 0);
}
