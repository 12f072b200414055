import assert from "node:assert/strict";
import {
  bucketWorkspace,
  dijkstraBuckets,
  dijkstraReference,
  dijkstraTuned,
  tunedWorkspace,
} from "../../../core/routing/reference_dijkstra.ts";
import { minCostDisjoint } from "../../../core/routing/reference_min_cost_flow.ts";
import { geometricMesh, randomGraph, seededRandom } from "../../../core/routing/random_graph.ts";
import { buildCsr } from "../../../core/routing/graph.ts";

Deno.test("dijkstraTuned() equals the O(n^2) reference on 200 random graphs", () => {
  for (let seed = 1; seed <= 200; seed++) {
    const r = seededRandom(seed);
    const n = 2 + Math.floor(r() * 60);
    const g = randomGraph(r, {
      n,
      links: Math.floor(r() * n * 5),
      directed: seed % 2 === 0,
      integerWeights: seed % 3 ? 4 : undefined,
    });
    const ws = tunedWorkspace(n, g.targets.length);
    for (const s of [0, n - 1]) {
      dijkstraTuned(g, s, ws);
      assert.deepEqual(Array.from(ws.dist), dijkstraReference(g, s).dist, `seed ${seed}`);
    }
  }
});

Deno.test("dijkstraBuckets() matches the O(n^2) reference on 100 random graphs", () => {
  for (let seed = 1; seed <= 100; seed++) {
    const r = seededRandom(seed);
    const n = 2 + Math.floor(r() * 80);
    const g = randomGraph(r, { n, links: n * 4, directed: seed % 2 === 0 });
    const ws = bucketWorkspace(n);
    dijkstraBuckets(g, 0, ws);
    const ref = dijkstraReference(g, 0).dist;
    ref.forEach((d, v) =>
      assert.ok(Math.abs(d - ws.dist[v]) <= 1e-9 * Math.max(1, d) || d === ws.dist[v])
    );
  }
});

Deno.test("minCostDisjoint() solves the trap topology and node splitting by hand", () => {
  // s-a-b-t shortest (3); the optimal pair is s-a-t + s-b-t (6).
  const trap = buildCsr({
    directed: true,
    nodes: ["s", "a", "b", "t"].map((id) => ({ id })),
    links: [
      { source: "s", target: "a", weight: 1 },
      { source: "a", target: "b", weight: 1 },
      { source: "b", target: "t", weight: 1 },
      { source: "s", target: "b", weight: 2 },
      { source: "a", target: "t", weight: 2 },
    ],
  });
  assert.deepEqual(minCostDisjoint(trap, 0, 3, 2, "edge"), { count: 2, cost: 6 });
  assert.deepEqual(minCostDisjoint(trap, 0, 3, 3, "edge"), { count: 2, cost: 6 });
  // Bow-tie: two edge-disjoint paths through the middle node m, but only one node-disjoint.
  const bowtie = buildCsr({
    directed: false,
    nodes: ["s", "x", "y", "m", "u", "v", "t"].map((id) => ({ id })),
    links: [["s", "x"], ["s", "y"], ["x", "m"], ["y", "m"], ["m", "u"], ["m", "v"], ["u", "t"], [
      "v",
      "t",
    ]].map(([source, target]) => ({ source, target, weight: 1 })),
  });
  assert.deepEqual(minCostDisjoint(bowtie, 0, 6, 2, "edge"), { count: 2, cost: 8 });
  assert.deepEqual(minCostDisjoint(bowtie, 0, 6, 2, "node"), { count: 1, cost: 4 });
});

Deno.test("geometricMesh() is seeded and links only nodes closer than the radius", () => {
  const a = geometricMesh(seededRandom(1), 300, 0.1), b = geometricMesh(seededRandom(1), 300, 0.1);
  assert.deepEqual(a, b);
  // weight = 1 + 10 * distance, distance < radius
  for (const w of a.weights) assert.ok(w >= 1 && w < 2);
  assert.ok(a.targets.length > 300 * 3, `too sparse: ${a.targets.length} arcs`);
});
