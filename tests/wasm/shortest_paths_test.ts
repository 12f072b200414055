import assert from "node:assert/strict";
import { loadCore } from "../../wasm/core.ts";
import { dijkstraReference } from "../../core/routing/reference_dijkstra.ts";
import { arcWeights, assertPath, corpus } from "./graph_checks.ts";
import { randomGraph, seededRandom } from "../../core/routing/random_graph.ts";

const core = await loadCore();

Deno.test("shortestTree() matches the O(n^2) reference on 400 seeded random graphs", () => {
  let checked = 0;
  for (const { label, csr } of corpus(400)) {
    using g = core.graph(csr);
    for (const s of [0, csr.ids.length - 1]) {
      const ref = dijkstraReference(csr, s);
      const tree = g.shortestTree(csr.ids[s]);
      for (let v = 0; v < csr.ids.length; v++) {
        const want = ref.dist[v], got = tree.dist[v];
        if (want === Infinity) {
          assert.equal(got, Infinity, `${label}: ${v} should be unreachable`);
          assert.equal(tree.pred[v], -1);
          assert.equal(tree.nextHop[v], -1);
          continue;
        }
        assert.ok(Math.abs(want - got) <= 1e-9 * Math.max(1, want), `${label}: dist ${v}`);
        if (v === s) continue;
        // The predecessor is on a shortest path (ties may pick another one than the reference).
        const p = tree.pred[v];
        const w = Math.min(...arcWeights(csr, p, v));
        assert.ok(Math.abs(tree.dist[p] + w - got) <= 1e-9 * Math.max(1, got), `${label}: pred`);
        // The next hop is the first node after s on the predecessor chain.
        let x = v;
        while (tree.pred[x] !== s) x = tree.pred[x];
        assert.equal(tree.nextHop[v], x, `${label}: next hop of ${v}`);
        checked++;
      }
    }
  }
  assert.ok(checked > 5000, `only ${checked} reachable nodes checked`);
});

Deno.test("shortestTree() is exact with both queues: narrow weight range (buckets) and wide (radix)", () => {
  for (let seed = 1; seed <= 60; seed++) {
    const r = seededRandom(seed);
    const n = 30 + Math.floor(r() * 200);
    const base = randomGraph(r, { n, links: n * 4, directed: seed % 2 === 0 });
    // Bucket queue: weights in [5, 7); radix heap: weights from 1e-6 to 1e6.
    const narrow = { ...base, weights: base.weights.map(() => 5 + 2 * r()) };
    const wide = { ...base, weights: base.weights.map(() => 10 ** (12 * r() - 6)) };
    for (const csr of [narrow, wide]) {
      using g = core.graph(csr);
      const ref = dijkstraReference(csr, 0);
      const tree = g.shortestTree(csr.ids[0]);
      ref.dist.forEach((d, v) => {
        assert.ok(
          d === tree.dist[v] || Math.abs(d - tree.dist[v]) <= 1e-9 * Math.max(1, d),
          `seed ${seed} node ${v}: ${d} vs ${tree.dist[v]}`,
        );
      });
    }
  }
});

Deno.test("pathTo() returns the tree path with its distance, null when unreachable", () => {
  for (const { label, csr } of corpus(100)) {
    using g = core.graph(csr);
    const s = csr.ids[0];
    const tree = g.shortestTree(s);
    for (let v = 0; v < csr.ids.length; v++) {
      const path = g.pathTo(tree, csr.ids[v]);
      if (tree.dist[v] === Infinity) {
        assert.equal(path, null, label);
        continue;
      }
      assert.ok(path);
      assert.equal(path.cost, tree.dist[v]);
      assertPath(csr, path.nodes, path.cost, s, csr.ids[v]);
    }
  }
});

Deno.test("nextHops() maps every reachable destination to a neighbour of the source", () => {
  for (const { csr } of corpus(60)) {
    using g = core.graph(csr);
    const tree = g.shortestTree(csr.ids[0]);
    const hops = g.nextHops(csr.ids[0]);
    const reachable = Array.from(tree.dist).filter((d, v) => v !== 0 && d < Infinity).length;
    assert.equal(hops.size, reachable);
    for (const hop of hops.values()) {
      assert.ok(arcWeights(csr, 0, csr.ids.indexOf(hop)).length > 0, `${hop} is no neighbour`);
    }
  }
});
