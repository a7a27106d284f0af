// The live dashboard: the session's history from /api/history, then the deltas that
// /api/events pushes (about twice a second) appended to it. A broken event stream is dropped
// and the page starts again from a fresh snapshot, so nothing is counted twice.
import { applyDelta, createModel, deltaRequest } from './model.js';
import { createView } from './view.js';

const state = document.getElementById('connection');

async function start() {
  let snapshot;
  try {
    const res = await fetch('api/history', { cache: 'no-store' });
    if (!res.ok) throw new Error(`${res.status} ${(await res.text()).trim()}`);
    snapshot = await res.json();
  } catch (err) {
    state.textContent = `cannot load the history (${err.message}); retrying`;
    state.className = 'down';
    setTimeout(start, 2000);
    return;
  }
  const model = createModel(snapshot);
  const view = createView(model);
  window.kubedask = { model, view };
  document.title = `kubedask ${snapshot.scheduler}`;
  document.getElementById('scheduler').textContent = snapshot.scheduler;
  view.render();
  const request = deltaRequest(model);
  const events = new EventSource(`api/events?${new URLSearchParams(Object.entries(request).map(([k, v]) => [k, String(v)]))}`);
  let frame = 0;
  events.onopen = () => { state.textContent = 'live'; state.className = 'live'; };
  events.onmessage = (e) => {
    applyDelta(model, JSON.parse(e.data));
    // Render at most once a frame, however many deltas arrived.
    if (!frame) frame = requestAnimationFrame(() => { frame = 0; view.render(); });
  };
  events.onerror = () => {
    events.close();
    state.textContent = 'disconnected; reconnecting';
    state.className = 'down';
    setTimeout(start, 1000);
  };
}

start();
