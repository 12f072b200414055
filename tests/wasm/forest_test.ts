import assert from "node:assert/strict";
import { loadCore, type Matrix } from "../../wasm/core.ts";
import { seededRandom } from "../../core/routing/random_graph.ts";

const core = await loadCore();

/** n Gaussian rows (Box-Muller) in `cols` dimensions around the origin. */
function gaussian(rand: () => number, n: number, cols: number, scale = 1): number[][] {
  return Array.from({ length: n }, () =>
    Array.from({ length: cols }, () => {
      const u = 1 - rand(), v = rand();
      return scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }));
}

/** Fraction of (outlier, inlier) pairs ranked correctly: the ROC AUC. */
function auc(outliers: Float64Array, inliers: Float64Array): number {
  let wins = 0;
  for (const o of outliers) for (const i of inliers) wins += o > i ? 1 : o === i ? 0.5 : 0;
  return wins / (outliers.length * inliers.length);
}

Deno.test("fitForest() is deterministic for a seed and differs across seeds", () => {
  const rand = seededRandom(5);
  const train = gaussian(rand, 400, 3);
  const test = gaussian(rand, 50, 3, 2);
  const run = (seed: number) => {
    using f = core.fitForest(train, { seed });
    return f.score(test);
  };
  assert.deepEqual(run(7), run(7));
  assert.notDeepEqual(run(7), run(8));
});

Deno.test("fitForest() ranks injected outliers above inliers on 20 seeded data sets", () => {
  for (let seed = 1; seed <= 20; seed++) {
    const rand = seededRandom(seed);
    const cols = 1 + (seed % 6);
    const train = gaussian(rand, 600, cols);
    const inliers = gaussian(rand, 200, cols);
    // Outliers: a Gaussian point pushed out to radius 5..8 in a random direction.
    const outliers = gaussian(rand, 20, cols).map((row) => {
      const norm = Math.hypot(...row) || 1;
      const r = 5 + 3 * rand();
      return row.map((x) => (x / norm) * r);
    });
    using f = core.fitForest(train, { seed, trees: 100, sample: 256 });
    const a = auc(f.score(outliers), f.score(inliers));
    assert.ok(a >= 0.99, `seed ${seed}, ${cols} columns: AUC ${a}`);
  }
});

Deno.test("score() follows s(x, n) = 2^(-E(h(x)) / c(n)) exactly on a two-row forest", () => {
  // psi = 2: height limit 1, every tree splits the two rows into two leaves of size 1, so
  // h(x) = 1 for any x and c(2) = 1: s = 2^-1.
  using f = core.fitForest([[0, 0], [1, 1]], { trees: 10 });
  assert.equal(f.sampleSize, 2);
  assert.deepEqual(Array.from(f.score([[0, 0], [5, -3], [0.5, 0.5]])), [0.5, 0.5, 0.5]);
});

Deno.test("score() gives values in (0, 1] and accepts a Matrix for batch scoring", () => {
  const rand = seededRandom(9);
  const rows = 1000, cols = 4;
  const m: Matrix = { rows, cols, data: Float64Array.from({ length: rows * cols }, rand) };
  using f = core.fitForest(m, { trees: 50, sample: 128, seed: 3 });
  const s = f.score(m);
  assert.equal(s.length, rows);
  for (const x of s) assert.ok(x > 0 && x <= 1, `score ${x}`);
  assert.equal(f.cols, 4);
  assert.equal(f.sampleSize, 128);
});

Deno.test("a forest stays usable across calls until freed", () => {
  const f = core.fitForest([[1], [2], [3], [10]], { seed: 2 });
  const first = f.score([[2.5]]);
  for (let i = 0; i < 5; i++) assert.deepEqual(f.score([[2.5]]), first);
  f.free();
  f.free();
  assert.throws(() => f.score([[2.5]]), /already freed/);
});
