/**
 * Seeded random topologies for property tests and benchmarks: uniform random graphs (sparse,
 * dense, disconnected, with equal-weight ties) and random geometric meshes (nodes in the unit
 * square, links between nodes closer than a radius, as radios are).
 *
 * @module
 */
import type { CsrGraph } from "../../wasm/core.ts";
import { csrFromArrays } from "./graph.ts";
import { seededRandom } from "../random/seeded_random.ts";

export { seededRandom };

/** Options of randomGraph. */
export interface RandomGraphOptions {
  /** Number of nodes. */
  n: number;
  /** Number of links (self-loops are skipped, so slightly fewer may result). */
  links: number;
  directed?: boolean;
  /** Weights are integers 1..maxWeight when set (many ties), else floats in [0.1, 10). */
  integerWeights?: number;
  /** Probability that a weight is 0 (zero-cost links are legal). */
  zeroWeight?: number;
  /** Only connect nodes within the same of this many components (disconnected graphs). */
  components?: number;
}

/** A uniform random graph (parallel links possible, no self-loops). */
export function randomGraph(rand: () => number, o: RandomGraphOptions): CsrGraph {
  const ids = Array.from({ length: o.n }, (_, i) => `n${i}`);
  const comps = Math.max(1, o.components ?? 1);
  const src: number[] = [], dst: number[] = [], w: number[] = [];
  for (let i = 0; i < o.links; i++) {
    const u = Math.floor(rand() * o.n);
    let v = Math.floor(rand() * o.n);
    if (comps > 1) {
      // Component of a node = index mod comps; links stay inside one component.
      v = v - (v % comps) + (u % comps);
      if (v >= o.n) v = u;
    }
    if (u === v) continue;
    let x = o.integerWeights ? 1 + Math.floor(rand() * o.integerWeights) : 0.1 + rand() * 9.9;
    if (o.zeroWeight && rand() < o.zeroWeight) x = 0;
    src.push(u);
    dst.push(v);
    w.push(x);
  }
  return csrFromArrays(
    ids,
    Int32Array.from(src),
    Int32Array.from(dst),
    Float64Array.from(w),
    o.directed ?? false,
  );
}

/**
 * A random geometric mesh: n nodes in the unit square, an undirected link between every pair
 * closer than `radius`, weighted by distance (plus 1 so every hop costs something).
 */
export function geometricMesh(rand: () => number, n: number, radius: number): CsrGraph {
  const ids = Array.from({ length: n }, (_, i) => `r${i}`);
  const x = Float64Array.from({ length: n }, rand), y = Float64Array.from({ length: n }, rand);
  // Grid buckets of side `radius` keep this O(n) for sparse meshes.
  const cells = Math.max(1, Math.floor(1 / radius));
  const bucket = new Map<number, number[]>();
  const key = (cx: number, cy: number) => cx * (cells + 2) + cy;
  for (let i = 0; i < n; i++) {
    const k = key(
      Math.min(cells - 1, Math.floor(x[i] * cells)),
      Math.min(cells - 1, Math.floor(y[i] * cells)),
    );
    const b = bucket.get(k);
    if (b) b.push(i);
    else bucket.set(k, [i]);
  }
  const src: number[] = [], dst: number[] = [], w: number[] = [];
  for (let i = 0; i < n; i++) {
    const cx = Math.min(cells - 1, Math.floor(x[i] * cells));
    const cy = Math.min(cells - 1, Math.floor(y[i] * cells));
    for (let dx = -1; dx <= 1; dx++) {
      for (let dy = -1; dy <= 1; dy++) {
        for (const j of bucket.get(key(cx + dx, cy + dy)) ?? []) {
          if (j <= i) continue;
          const d = Math.hypot(x[i] - x[j], y[i] - y[j]);
          if (d < radius) {
            src.push(i);
            dst.push(j);
            w.push(1 + 10 * d);
          }
        }
      }
    }
  }
  return csrFromArrays(
    ids,
    Int32Array.from(src),
    Int32Array.from(dst),
    Float64Array.from(w),
    false,
  );
}
