import assert from "node:assert/strict";
import { localiseLoss, meanAggregate } from "../../../core/mapek/neighbourhood.ts";

function lcg(seed: number) {
  return () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

Deno.test("meanAggregate() equals a direct mean over each node's distinct neighbours", () => {
  const rand = lcg(7);
  for (let trial = 0; trial < 100; trial++) {
    const n = 1 + Math.floor(rand() * 8);
    const dim = 1 + Math.floor(rand() * 3);
    const ids = Array.from({ length: n }, (_, i) => `n${i}`);
    const features = new Map(ids.map((id) => [id, Array.from({ length: dim }, () => rand() * 10)]));
    const edges: [string, string][] = [];
    for (let e = 0; e < n * 2; e++) {
      edges.push([ids[Math.floor(rand() * n)], ids[Math.floor(rand() * n)]]);
    }
    const out = meanAggregate({ features, edges });
    for (const id of ids) {
      // Reference: collect neighbour set by scanning the edge list.
      const ns = new Set<string>();
      for (const [a, b] of edges) {
        if (a === b) continue;
        if (a === id) ns.add(b);
        if (b === id) ns.add(a);
      }
      const got = out.get(id)!;
      assert.deepEqual(got.self, features.get(id));
      assert.equal(got.degree, ns.size);
      if (ns.size === 0) {
        assert.equal(got.neighbourMean, null);
        continue;
      }
      for (let d = 0; d < dim; d++) {
        const mean = [...ns].reduce((s, u) => s + features.get(u)![d], 0) / ns.size;
        assert.ok(Math.abs(got.neighbourMean![d] - mean) < 1e-9);
      }
    }
  }
});

Deno.test("localiseLoss() puts loss on the link when this node's and the neighbour's other links are clean", () => {
  const where = localiseLoss("r1", "r2", [
    { a: "r1", b: "r2", loss_percent: 30 },
    { a: "r1", b: "r3", loss_percent: 0 },
    { a: "r2", b: "r4", loss_percent: 1 },
  ], 5);
  assert.equal(where.kind, "link");
  assert.equal(where.id, "r1|r2");
  assert.equal(where.selfOthersLoss, 0);
  assert.equal(where.neighbourOthersLoss, 1);
});

Deno.test("localiseLoss() blames the neighbour when its other links are lossy too", () => {
  const where = localiseLoss("r1", "r2", [
    { a: "r1", b: "r2", loss_percent: 30 },
    { a: "r1", b: "r3", loss_percent: 0 },
    { a: "r2", b: "r4", loss_percent: 40 },
    { a: "r5", b: "r2", loss_percent: 20 },
  ], 5);
  assert.equal(where.kind, "neighbour");
  assert.equal(where.id, "r2");
  assert.equal(where.neighbourOthersLoss, 30);
});

Deno.test("localiseLoss() blames this node when all of its links are lossy", () => {
  const where = localiseLoss("r1", "r2", [
    { a: "r1", b: "r2", loss_percent: 30 },
    { a: "r1", b: "r3", loss_percent: 25 },
    { a: "r2", b: "r4", loss_percent: 0 },
  ], 5);
  assert.equal(where.kind, "node");
  assert.equal(where.id, "r1");
});

Deno.test("localiseLoss() with only this node's single link reports the link with unknown context", () => {
  const where = localiseLoss("r1", "r2", [{ a: "r1", b: "r2", loss_percent: 50 }], 5);
  assert.deepEqual(where, {
    kind: "link",
    id: "r1|r2",
    selfOthersLoss: null,
    neighbourOthersLoss: null,
  });
});
