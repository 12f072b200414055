import assert from "node:assert/strict";
import { loadCore } from "../../wasm/core.ts";
import { minCostDisjoint } from "../../core/routing/reference_min_cost_flow.ts";
import { assertDisjoint, assertPath, corpus } from "./graph_checks.ts";

const core = await loadCore();

Deno.test("disjointPaths() total cost equals the min-cost-flow optimum and paths are disjoint", async (t) => {
  const cases = corpus(300, 30);
  for (const mode of ["edge", "node"] as const) {
    await t.step(`${mode}-disjoint, k = 2 and 3, on ${cases.length} graphs`, () => {
      let pairs = 0;
      for (const { label, csr } of cases) {
        using g = core.graph(csr);
        const s = 0, dest = csr.ids.length - 1;
        for (const k of [2, 3]) {
          const want = minCostDisjoint(csr, s, dest, k, mode);
          const got = g.disjointPaths(csr.ids[s], csr.ids[dest], { k, disjoint: mode });
          const where = `${label} ${mode} k=${k}`;
          assert.equal(got.paths.length, want.count, `${where}: path count`);
          assert.ok(Math.abs(got.total_cost - want.cost) <= 1e-6, `${where}: total cost`);
          for (const p of got.paths) assertPath(csr, p.nodes, p.cost, csr.ids[s], csr.ids[dest]);
          assertDisjoint(csr, got.paths.map((p) => p.nodes), mode);
          for (let i = 1; i < got.paths.length; i++) {
            assert.ok(got.paths[i - 1].cost <= got.paths[i].cost, `${where}: not sorted by cost`);
          }
          const sum = got.paths.reduce((a, p) => a + p.cost, 0);
          assert.ok(Math.abs(sum - got.total_cost) <= 1e-9);
          if (got.paths.length === 2) pairs++;
        }
      }
      assert.ok(pairs > 100, `only ${pairs} graphs had two disjoint paths`);
    });
  }
});

Deno.test("disjointPaths() escapes the trap topology where the shortest path blocks a pair", () => {
  // s-a-b-t is the shortest path (3), but the only disjoint pair is s-a-t and s-b-t.
  const csr = {
    ids: ["s", "a", "b", "t"],
    directed: true,
    offsets: new Int32Array([0, 2, 4, 5, 5]),
    targets: new Int32Array([1, 2, 2, 3, 3]),
    weights: new Float64Array([1, 2, 1, 2, 1]),
    links: new Int32Array([0, 1, 2, 3, 4]),
  };
  using g = core.graph(csr);
  const r = g.disjointPaths("s", "t", { k: 2, disjoint: "edge" });
  assert.deepEqual(r.paths.map((p) => p.nodes.join("")).sort(), ["sat", "sbt"]);
  assert.equal(r.total_cost, 6);
});

Deno.test("disjointPaths() returns fewer paths when fewer disjoint ones exist", () => {
  // A line a-b-c: one path, whatever k.
  const csr = {
    ids: ["a", "b", "c"],
    directed: false,
    offsets: new Int32Array([0, 1, 3, 4]),
    targets: new Int32Array([1, 0, 2, 1]),
    weights: new Float64Array([1, 1, 2, 2]),
    links: new Int32Array([0, 0, 1, 1]),
  };
  using g = core.graph(csr);
  for (const k of [1, 2, 5]) {
    const r = g.disjointPaths("a", "c", { k });
    assert.deepEqual(r, { paths: [{ nodes: ["a", "b", "c"], cost: 3 }], total_cost: 3 });
  }
});
