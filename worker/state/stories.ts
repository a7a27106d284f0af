// Bounded per-key stories for debugging: the last `length` transitions of each of the last
// `keys` keys, with the stimulus that caused them.
import type { StoryEntry } from './types.js';

export class Stories {
  private readonly byKey = new Map<string, StoryEntry[]>();
  /** Keys in creation order, as a ring: evicting the oldest stays O(1) (finding a Map's first
   * key after many deletes walks over their holes). */
  private readonly ring: Array<string | undefined>;
  private next = 0;

  constructor(private readonly length: number, keys = 10_000) {
    this.ring = new Array<string | undefined>(keys);
  }

  record(entry: StoryEntry): void {
    let story = this.byKey.get(entry.key);
    if (!story) {
      const evict = this.ring[this.next];
      if (evict !== undefined) this.byKey.delete(evict);
      this.ring[this.next] = entry.key;
      this.next = (this.next + 1) % this.ring.length;
      this.byKey.set(entry.key, (story = []));
    }
    story.push(entry);
    if (story.length > this.length) story.shift();
  }

  get(key: string): StoryEntry[] {
    return [...(this.byKey.get(key) ?? [])];
  }
}
