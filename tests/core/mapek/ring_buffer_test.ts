import assert from "node:assert/strict";
import { createRingBuffer } from "../../../core/mapek/ring_buffer.ts";

Deno.test("createRingBuffer() keeps exactly the newest items, like an array trimmed from the front", () => {
  let seed = 42;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let trial = 0; trial < 200; trial++) {
    const capacity = 1 + Math.floor(rand() * 20);
    const ring = createRingBuffer<number>(capacity);
    const reference: number[] = [];
    const pushes = Math.floor(rand() * 60);
    for (let i = 0; i < pushes; i++) {
      const v = Math.floor(rand() * 1000);
      ring.push(v);
      reference.push(v);
      if (reference.length > capacity) reference.shift();
      assert.equal(ring.size, reference.length);
      assert.equal(ring.last(), reference.at(-1));
    }
    assert.deepEqual(ring.toArray(), reference);
    const n = Math.floor(rand() * (capacity + 3));
    assert.deepEqual(ring.tail(n), reference.slice(Math.max(0, reference.length - n)));
  }
});

Deno.test("createRingBuffer() rejects a capacity that is not a positive integer", () => {
  for (const bad of [0, -1, 1.5, NaN]) {
    assert.throws(() => createRingBuffer(bad), /capacity must be a positive integer/);
  }
});

Deno.test("an empty ring buffer has no last item and an empty tail", () => {
  const ring = createRingBuffer<string>(3);
  assert.equal(ring.last(), undefined);
  assert.deepEqual(ring.tail(5), []);
});
