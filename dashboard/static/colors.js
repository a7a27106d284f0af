// Colours: one per task group from a stable hash of its name, and fixed ones for what is not a
// computation. Two names that hash to the same slot take the next free one, in the order the
// page first meets them (groups only grow, so a session's groups keep their colours).
export const KIND_COLORS = { transfer: '#e6a100', spill: '#7b4fa0', error: '#d62728' };

// 12 hues from orange round to violet (reds left to errors), each light and dark.
const HUES = 12;
const SLOTS = HUES * 2;
const byName = new Map();
const taken = new Set();

function hash(name) {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  return h >>> 0;
}

export function groupColor(name) {
  let color = byName.get(name);
  if (color === undefined) {
    let slot = hash(name) % SLOTS;
    for (let tries = 0; taken.has(slot) && tries < SLOTS; tries++) slot = (slot + 1) % SLOTS;
    taken.add(slot);
    // Neighbouring slots (a collision moves to the next) get hues far apart: 5 x 25 degrees.
    color = `hsl(${28 + ((slot * 5) % HUES) * 25}, 62%, ${slot < HUES ? 47 : 63}%)`;
    byName.set(name, color);
  }
  return color;
}
