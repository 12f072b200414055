import assert from "node:assert/strict";
import { loadCore } from "../../wasm/core.ts";
import { geometricMesh, seededRandom } from "../../core/routing/random_graph.ts";

Deno.test("10k repeated calls keep the core's linear memory flat", async (t) => {
  // A fresh instance, so other tests' allocations do not blur the numbers.
  const core = await loadCore({ fresh: true });
  const csr = geometricMesh(seededRandom(4), 120, 0.2);
  const train = Array.from({ length: 300 }, (_, i) => [Math.sin(i), Math.cos(i * 0.7), i % 7]);
  const test = train.slice(0, 50);
  const calls: [string, () => void][] = [
    ["graph create/free + shortestTree", () => {
      using g = core.graph(csr);
      g.shortestTree("r0");
    }],
    ["routeTable", () => {
      using g = core.graph(csr);
      g.routeTable("r1", { disjoint: "node" });
    }],
    ["disjointPaths", () => {
      using g = core.graph(csr);
      g.disjointPaths("r0", "r9", { k: 3 });
    }],
    ["forest fit/score/free", () => {
      using f = core.fitForest(train, { trees: 10, sample: 64 });
      f.score(test);
    }],
  ];
  for (const [name, call] of calls) {
    await t.step(`${name}: 2,500 calls`, () => {
      for (let i = 0; i < 100; i++) call(); // warm-up: let the allocator reach its working set
      const before = core.memoryBytes();
      for (let i = 0; i < 2400; i++) call();
      assert.equal(core.memoryBytes(), before, `${name} grew memory`);
    });
  }
  await t.step("one long-lived graph: 10,000 shortestTree + routeTable calls", () => {
    using g = core.graph(csr);
    const dist = new Float64Array(csr.ids.length);
    for (let i = 0; i < 50; i++) g.routeTableRaw(i % 120);
    const before = core.memoryBytes();
    for (let i = 0; i < 10_000; i++) {
      g.shortestTreeInto(i % 120, dist);
      if (i % 10 === 0) g.routeTableRaw(i % 120);
    }
    assert.equal(core.memoryBytes(), before);
  });
  assert.equal(core.liveObjects(), 0);
});
