/**
 * A fixed-capacity ring buffer: the monitor keeps the last N samples of every series in one,
 * so memory stays bounded however long the agent runs.
 *
 * @module
 */
import { ValidationError } from "../errors.ts";

/** A bounded FIFO that overwrites its oldest item when full. */
export interface RingBuffer<T> {
  /** Maximum number of items held. */
  readonly capacity: number;
  /** Number of items held now. */
  readonly size: number;
  /** Appends an item, dropping the oldest when full. */
  push(item: T): void;
  /** The newest item, or undefined when empty. */
  last(): T | undefined;
  /** Items from oldest to newest (a copy). */
  toArray(): T[];
  /** The newest `n` items, oldest first. */
  tail(n: number): T[];
}

/**
 * Creates an empty ring buffer.
 *
 * @param capacity maximum items held, a positive integer
 */
export function createRingBuffer<T>(capacity: number): RingBuffer<T> {
  if (!Number.isInteger(capacity) || capacity < 1) {
    throw new ValidationError(`Ring buffer capacity must be a positive integer: ${capacity}`);
  }
  const items: T[] = new Array(capacity);
  let start = 0;
  let size = 0;
  const at = (i: number) => items[(start + i) % capacity];
  return {
    capacity,
    get size() {
      return size;
    },
    push(item) {
      if (size < capacity) {
        items[(start + size) % capacity] = item;
        size++;
      } else {
        items[start] = item;
        start = (start + 1) % capacity;
      }
    },
    last: () => (size === 0 ? undefined : at(size - 1)),
    toArray: () => Array.from({ length: size }, (_, i) => at(i)),
    tail(n) {
      const k = Math.max(0, Math.min(size, Math.floor(n)));
      return Array.from({ length: k }, (_, i) => at(size - k + i));
    },
  };
}
