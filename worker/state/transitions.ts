// Which state changes a key may make; anything else is a bug in WorkerState, caught early.
import type { KeyState } from './types.js';

export const TRANSITIONS: Record<KeyState | 'new', ReadonlyArray<KeyState | 'forgotten'>> = {
  new: ['fetch', 'waiting', 'ready', 'memory', 'forgotten'],
  fetch: ['flight', 'waiting', 'ready', 'memory', 'forgotten'],
  flight: ['memory', 'fetch', 'forgotten'],
  waiting: ['ready', 'memory', 'forgotten'],
  ready: ['executing', 'memory', 'forgotten'],
  executing: ['memory', 'error', 'fetch', 'forgotten'],
  memory: ['forgotten'],
  error: ['fetch', 'waiting', 'ready', 'memory', 'forgotten'],
};
