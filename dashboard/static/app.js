// The live dashboard: the session's history from /api/history (its first page of entries), then
// the deltas that /api/events pushes (about twice a second) appended to it, the rest of the
// stream coming a page at a time. A broken event stream resumes from what the page holds, after
// a growing wait (a flapping proxy must not hammer the scheduler); only a scheduler that refuses
// that position (it restarted) makes the page load a fresh snapshot and redraw from it.
import { applyDelta, createModel, deltaRequest } from './model.js';
import { createView } from './view.js';
import { readEvents } from './events.js';

/** Stream entries per request: no response serializes the whole session at once. */
const PAGE_ENTRIES = 100_000;
const FIRST_RETRY_MS = 1000;
const LAST_RETRY_MS = 30_000;

const state = document.getElementById('connection');
let model;
let view;
let retryMs = FIRST_RETRY_MS;
let frame = 0;
/** Deltas applied since the last snapshot. */
let applied = 0;

function show(text, className) {
  state.textContent = text;
  state.className = className;
}

/** Waits before the next try, twice as long as the last (up to LAST_RETRY_MS). */
function backoff() {
  const wait = retryMs;
  retryMs = Math.min(LAST_RETRY_MS, retryMs * 2);
  return new Promise((resolve) => setTimeout(resolve, wait));
}

async function loadSnapshot() {
  for (;;) {
    try {
      const res = await fetch(`api/history?maxEntries=${PAGE_ENTRIES}`, { cache: 'no-store' });
      if (!res.ok) throw new Error(`${res.status} ${(await res.text()).trim()}`);
      return await res.json();
    } catch (err) {
      show(`cannot load the history (${err.message}); retrying`, 'down');
      await backoff();
    }
  }
}

/** A fresh model and view from a snapshot; the old view (plots, listeners) is taken down first. */
function showSnapshot(snapshot) {
  view?.destroy();
  cancelAnimationFrame(frame);
  frame = 0;
  model = createModel(snapshot);
  view = createView(model);
  applied = 0;
  window.kubedask = { model, view };
  document.title = `kubedask ${snapshot.scheduler}`;
  document.getElementById('scheduler').textContent = snapshot.scheduler;
  view.render();
}

function eventsUrl() {
  const query = { ...deltaRequest(model), maxEntries: PAGE_ENTRIES, scheduler: model.scheduler };
  return `api/events?${new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]))}`;
}

/** Follows /api/events from the model's position; returns why it stopped. */
async function follow() {
  let res;
  try {
    res = await fetch(eventsUrl(), { cache: 'no-store' });
  } catch (err) {
    return { refused: false, why: err.message };
  }
  // 409: another scheduler's history; 400: a position this scheduler cannot serve.
  if (res.status === 409 || res.status === 400) return { refused: true, why: (await res.text()).trim() };
  if (!res.ok) return { refused: false, why: `${res.status}` };
  show('live', 'live');
  try {
    await readEvents(res, (data) => {
      applyDelta(model, JSON.parse(data));
      applied++;
      retryMs = FIRST_RETRY_MS;
      // Render at most once a frame, however many deltas arrived.
      if (!frame) frame = requestAnimationFrame(() => { frame = 0; view.render(); });
    });
    return { refused: false, why: 'the stream ended' };
  } catch (err) {
    return { refused: false, why: err.message };
  }
}

async function run() {
  showSnapshot(await loadSnapshot());
  for (;;) {
    const { refused, why } = await follow();
    if (refused) {
      show(`the scheduler cannot continue this history (${why}); reloading`, 'down');
      // Refused straight after a fresh snapshot: something is wrong, so wait before the next.
      if (applied === 0) await backoff();
      showSnapshot(await loadSnapshot());
    } else {
      show(`disconnected (${why}); reconnecting in ${Math.round(retryMs / 1000)} s`, 'down');
      await backoff();
    }
  }
}

run();
