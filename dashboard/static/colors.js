// Colours: one per task group from a stable hash of its name (the same group keeps its colour
// across pages, sessions and the report), and fixed ones for what is not a computation.
export const KIND_COLORS = { transfer: '#e6a100', spill: '#7b4fa0', error: '#d62728' };

const cache = new Map();

/** An HSL colour for a group; hues near red are left out so errors stay unmistakable. */
export function groupColor(name) {
  let color = cache.get(name);
  if (color === undefined) {
    let h = 0x811c9dc5;
    for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
    const hue = 25 + (h % 300);
    const light = 45 + ((h >>> 9) % 3) * 8;
    color = `hsl(${hue}, 62%, ${light}%)`;
    cache.set(name, color);
  }
  return color;
}
