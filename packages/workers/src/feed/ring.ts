import type { EventRow } from "@agentex/db";
import { toChangeEvent, type ChangeEvent } from "@agentex/core";

/** An event as subscribers read it: with the principals that could read its agent when it committed. */
export interface Stored {
  event: ChangeEvent;
  readers: ReadonlySet<string>;
}

export const stored = (row: EventRow): Stored => ({
  event: toChangeEvent(row),
  readers: new Set(row.readers),
});

/**
 * The recent events one replica's subscribers share: ids contiguous up to
 * `head`, the newest event this replica has read, at most `size` of them.
 */
export class EventRing {
  head = 0;
  private items: Stored[] = [];

  constructor(private readonly size: number) {}

  /** The oldest id held; undefined while empty. */
  get first(): number | undefined {
    return this.items[0]?.event.id;
  }

  append(row: EventRow): void {
    const id = Number(row.id);
    if (id <= this.head) return;
    // A jump (purged or first read after a gap) restarts the ring: it must stay contiguous.
    if (id !== this.head + 1) this.items = [];
    this.items.push(stored(row));
    if (this.items.length > this.size) this.items.splice(0, this.items.length - this.size);
    this.head = id;
  }

  /** Up to `limit` events after `cursor`, if the ring holds the one right after it; else null. */
  after(cursor: number, limit: number): Stored[] | null {
    const first = this.first;
    if (first === undefined || cursor + 1 < first) return null;
    const from = cursor + 1 - first;
    return this.items.slice(from, from + limit);
  }
}
