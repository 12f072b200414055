/**
 * Pure-TypeScript shortest paths for tests and benchmarks only (production uses the WASM core):
 * `dijkstraReference` is the textbook O(n^2) array scan, obviously correct; `dijkstraTuned` is
 * what a careful TypeScript implementation looks like (typed arrays, a 4-ary heap with lazy
 * deletion, no allocation per call), the honest baseline for the WASM benchmark;
 * `dijkstraBuckets` is the same bucket-queue algorithm the WASM core uses when weights are
 * positive and narrow-ranged, so the benchmark can also compare language against language.
 *
 * @module
 */
import type { CsrGraph } from "../../wasm/core.ts";

/** Distances and predecessors from `source` (Infinity / -1 when unreachable), O(n^2). */
export function dijkstraReference(g: CsrGraph, source: number): { dist: number[]; pred: number[] } {
  const n = g.ids.length;
  const dist = new Array<number>(n).fill(Infinity);
  const pred = new Array<number>(n).fill(-1);
  const done = new Array<boolean>(n).fill(false);
  dist[source] = 0;
  for (;;) {
    let u = -1;
    for (let v = 0; v < n; v++) {
      if (!done[v] && dist[v] < Infinity && (u < 0 || dist[v] < dist[u])) u = v;
    }
    if (u < 0) break;
    done[u] = true;
    for (let a = g.offsets[u]; a < g.offsets[u + 1]; a++) {
      const v = g.targets[a], nd = dist[u] + g.weights[a];
      if (nd < dist[v]) {
        dist[v] = nd;
        pred[v] = u;
      }
    }
  }
  return { dist, pred };
}

/** Reusable buffers for dijkstraTuned (allocate once per graph size). */
export interface TunedWorkspace {
  dist: Float64Array;
  pred: Int32Array;
  heapKey: Float64Array;
  heapItem: Int32Array;
}

/** Allocates a workspace for graphs with n nodes and m arcs. */
export function tunedWorkspace(n: number, m: number): TunedWorkspace {
  return {
    dist: new Float64Array(n),
    pred: new Int32Array(n),
    heapKey: new Float64Array(m + 1),
    heapItem: new Int32Array(m + 1),
  };
}

/** Dijkstra with a typed-array 4-ary heap; fills `ws.dist` and `ws.pred`. */
export function dijkstraTuned(g: CsrGraph, source: number, ws: TunedWorkspace): void {
  const { offsets, targets, weights } = g;
  const { dist, pred, heapKey: hk, heapItem: hi } = ws;
  dist.fill(Infinity);
  pred.fill(-1);
  dist[source] = 0;
  hk[0] = 0;
  hi[0] = source;
  let size = 1;
  while (size > 0) {
    const k = hk[0], u = hi[0];
    size--;
    if (size > 0) {
      // Sift the last entry down from the root.
      const lk = hk[size], li = hi[size];
      let i = 0;
      for (;;) {
        const first = 4 * i + 1;
        if (first >= size) break;
        const end = first + 4 < size ? first + 4 : size;
        let best = first, bk = hk[first];
        for (let c = first + 1; c < end; c++) if (hk[c] < bk) (bk = hk[c], best = c);
        if (bk >= lk) break;
        hk[i] = bk;
        hi[i] = hi[best];
        i = best;
      }
      hk[i] = lk;
      hi[i] = li;
    }
    if (k > dist[u]) continue;
    for (let a = offsets[u], end = offsets[u + 1]; a < end; a++) {
      const v = targets[a], nd = k + weights[a];
      if (nd < dist[v]) {
        dist[v] = nd;
        pred[v] = u;
        let i = size++;
        while (i > 0) {
          const p = (i - 1) >> 2;
          if (hk[p] <= nd) break;
          hk[i] = hk[p];
          hi[i] = hi[p];
          i = p;
        }
        hk[i] = nd;
        hi[i] = v;
      }
    }
  }
}

/** Reusable buckets for dijkstraBuckets. */
export interface BucketWorkspace {
  dist: Float64Array;
  pred: Int32Array;
  keys: number[][];
  items: number[][];
}

/** Allocates a bucket workspace for graphs with n nodes. */
export function bucketWorkspace(n: number): BucketWorkspace {
  return { dist: new Float64Array(n), pred: new Int32Array(n), keys: [], items: [] };
}

/**
 * Dijkstra with a bucket queue (buckets as wide as the smallest weight, used as a ring): exact
 * because nodes of one bucket cannot improve each other. Needs weights > 0; fills ws.dist/pred.
 */
export function dijkstraBuckets(g: CsrGraph, source: number, ws: BucketWorkspace): void {
  const { offsets, targets, weights } = g;
  const { dist, pred } = ws;
  let minW = Infinity, maxW = 0;
  for (let a = 0; a < weights.length; a++) {
    const x = weights[a];
    if (x < minW) minW = x;
    if (x > maxW) maxW = x;
  }
  if (weights.length === 0) minW = maxW = 1;
  if (!(minW > 0)) throw new RangeError("dijkstraBuckets needs positive weights");
  const size = Math.floor(maxW / minW) + 2;
  while (ws.keys.length < size) (ws.keys.push([]), ws.items.push([]));
  for (let i = 0; i < size; i++) (ws.keys[i].length = 0, ws.items[i].length = 0);
  dist.fill(Infinity);
  pred.fill(-1);
  dist[source] = 0;
  ws.keys[0].push(0);
  ws.items[0].push(source);
  let live = 1, current = 0;
  while (live > 0) {
    const slot = current % size;
    const bk = ws.keys[slot], bi = ws.items[slot];
    if (bk.length === 0) {
      current++;
      continue;
    }
    const k = bk.pop()!, u = bi.pop()!;
    live--;
    if (k > dist[u]) continue;
    for (let a = offsets[u], end = offsets[u + 1]; a < end; a++) {
      const v = targets[a], nd = k + weights[a];
      if (nd < dist[v]) {
        dist[v] = nd;
        pred[v] = u;
        let b = Math.floor(nd / minW);
        if (b < current) b = current;
        const t = b % size;
        ws.keys[t].push(nd);
        ws.items[t].push(v);
        live++;
      }
    }
  }
}
