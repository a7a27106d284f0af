// Seeded random event sequences against the pure scheduler (see scheduler-random-cluster.ts):
// validateState after every event, the scheduler's view checked against the workers', and at
// the end nothing lost: every key a client still holds is in memory or erred, and it was told.
// A second profile has big workers give back most of what they are sent (see Profile).
// More seeds: SCHEDULER_SEEDS="100-199" (or "7,8,9"), SCHEDULER_EVENTS=2000 for longer runs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RandomCluster, Rng, type Profile } from './scheduler-random-cluster.js';

const FIXED_SEEDS = [1, 2, 3, 5, 8, 13, 21, 42, 1234, 20261205];
const HISTORY_SHOWN = 60;

function seedsFromEnv(text: string | undefined): number[] {
  if (!text) return FIXED_SEEDS;
  return text.split(',').flatMap((part) => {
    const [from, to] = part.split('-').map((n) => Number(n.trim()));
    if (!Number.isInteger(from) || (to !== undefined && !Number.isInteger(to))) {
      throw new Error(`SCHEDULER_SEEDS: "${part}" is neither a seed nor a range like 100-199`);
    }
    return Array.from({ length: (to ?? (from as number)) - (from as number) + 1 }, (_, i) => (from as number) + i);
  });
}

const SEEDS = seedsFromEnv(process.env.SCHEDULER_SEEDS);
const EVENTS = Number(process.env.SCHEDULER_EVENTS ?? 400);
/** The give-backs profile's events are bigger (batches of up to 140 tasks, big workers). */
const GIVE_BACK_EVENTS = Math.ceil(EVENTS / 4);

/** Runs one seed; a failure names the seed, how to replay it, and the events that led there. */
function run(seed: number, profile: Profile = 'mixed', events = EVENTS): RandomCluster {
  const cluster = new RandomCluster(new Rng(seed), profile);
  try {
    for (let i = 0; i < events; i++) cluster.step();
    cluster.drain();
    const problems = cluster.endStateProblems();
    if (problems.length > 0) throw new Error(`after draining:\n  ${problems.join('\n  ')}`);
  } catch (err) {
    const h = cluster.history;
    const shown = h.slice(-HISTORY_SHOWN).map((line, i) => `  ${h.length - Math.min(h.length, HISTORY_SHOWN) + i + 1}. ${line}`);
    throw new Error(
      `seed ${seed} (${profile}) failed at event ${h.length} (replay: SCHEDULER_SEEDS=${seed} node --test dist/test/unit/scheduler-random.test.js)\n` +
      `${(err as Error).message}\nlast ${shown.length} of ${h.length} events:\n${shown.join('\n')}`,
      { cause: err },
    );
  }
  return cluster;
}

test(`random event sequences keep every index consistent and lose nothing (${SEEDS.length} seeds x ${EVENTS} events)`, () => {
  let finished = 0;
  let erred = 0;
  for (const seed of SEEDS) {
    const cluster = run(seed);
    const c = cluster.h.s.counts();
    finished += c.memory;
    erred += c.erred;
  }
  // The runs must exercise something: results and errors both occur.
  assert.ok(finished > 0 && erred > 0, `finished ${finished}, erred ${erred}`);
});

test(`many give-backs: long runs of tasks a worker gave back wait at the head of a lane, and nothing is stranded (${SEEDS.length} seeds x ${GIVE_BACK_EVENTS} events)`, () => {
  let most = 0;
  for (const seed of SEEDS) most = Math.max(most, run(seed, 'give-backs', GIVE_BACK_EVENTS).mostGivenBackQueued);
  // More than the 64 an earlier search gave up after: the runs must reach that.
  assert.ok(most > 64, `at most ${most} queued tasks given back by one worker`);
});

test('the same seed gives the same run', () => {
  assert.deepEqual(run(7).history, run(7).history);
});
