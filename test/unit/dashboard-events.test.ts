// The dashboard's event pushes run only while a page is connected, and a page whose socket is
// full is skipped until it drains, then gets everything it missed in one delta.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DashboardEvents } from '../../scheduler/server/dashboard-events.js';
import { FixtureHistory, generateFixture } from '../helpers/history-fixture.js';
import { waitUntil } from '../helpers/wait.js';

class FakeResponse extends EventEmitter {
  written: string[] = [];
  full = false;
  ended = false;
  writeHead() { return this; }
  write(text: string) { this.written.push(text); return !this.full; }
  end() { this.ended = true; }
}

const connect = (events: DashboardEvents, at: { cursor: number }) => {
  const req = new EventEmitter();
  const res = new FakeResponse();
  events.subscribe(req as IncomingMessage, res as unknown as ServerResponse, { cursor: at.cursor, lanes: 0, groups: 0, since: 0 });
  return { req, res, deltas: () => res.written.filter((w) => w.startsWith('data: ')).map((w) => JSON.parse(w.slice(6)) as { from: number; cursor: number }) };
};

test('pushes only while a page is connected', () => {
  const events = new DashboardEvents(new FixtureHistory(generateFixture({ workers: 1, threads: 1, tasks: 10 })), 5);
  assert.equal(events.pushing, false);
  const a = connect(events, { cursor: 0 });
  const b = connect(events, { cursor: 0 });
  assert.equal(events.pushing, true);
  a.req.emit('close');
  assert.equal(events.pushing, true);
  b.req.emit('close');
  assert.equal(events.pushing, false);
  assert.equal(events.connected, 0);
});

test('a page with a full socket is skipped until it drains, then catches up in one delta', async () => {
  const fixture = generateFixture({ workers: 2, threads: 2, tasks: 200 });
  const history = new FixtureHistory(fixture, fixture.full.startedAt + 1000);
  const events = new DashboardEvents(history, 5);
  const page = connect(events, { cursor: 0 });
  try {
    await waitUntil(() => page.deltas().length > 0, 'a first delta');
    page.res.full = true;
    const sent = page.deltas().length;
    await waitUntil(() => page.deltas().length === sent + 1, 'the write that filled the socket');
    history.clock = fixture.end;
    page.res.full = false;
    page.res.emit('drain');
    await waitUntil(() => page.deltas().at(-1)?.cursor === fixture.full.cursor, 'the catch-up delta');
    const deltas = page.deltas();
    deltas.forEach((d, i) => assert.equal(d.from, i === 0 ? 0 : deltas[i - 1].cursor, 'each delta starts where the last ended'));
  } finally {
    events.close();
  }
  assert.equal(page.res.ended, true);
  assert.equal(events.pushing, false);
});
