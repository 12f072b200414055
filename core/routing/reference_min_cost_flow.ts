/**
 * Pure-TypeScript min-cost flow for tests only: successive shortest paths with Bellman-Ford on
 * an explicit residual graph (negative residual costs are fine). k unit-capacity paths of
 * minimum total cost from s to t are a min-cost flow of value min(k, max flow); node-disjoint
 * paths split every node v except s and t into v_in -> v_out with capacity 1.
 *
 * @module
 */
import type { CsrGraph } from "../../wasm/core.ts";

/** Optimum of the k-disjoint-paths problem: how many paths and their minimum total cost. */
export function minCostDisjoint(
  g: CsrGraph,
  s: number,
  t: number,
  k: number,
  mode: "edge" | "node",
): { count: number; cost: number } {
  const n = g.ids.length;
  const N = mode === "node" ? 2 * n : n;
  const to: number[] = [], cap: number[] = [], cost: number[] = [], from: number[] = [];
  const add = (u: number, v: number, c: number, w: number) => {
    from.push(u, v);
    to.push(v, u);
    cap.push(c, 0);
    cost.push(w, -w);
  };
  for (let u = 0; u < n; u++) {
    if (mode === "node") add(u, n + u, u === s || u === t ? k : 1, 0);
    for (let a = g.offsets[u]; a < g.offsets[u + 1]; a++) {
      add(mode === "node" ? n + u : u, g.targets[a], 1, g.weights[a]);
    }
  }
  let count = 0, total = 0;
  while (count < k) {
    const dist = new Array<number>(N).fill(Infinity);
    const via = new Array<number>(N).fill(-1);
    dist[s] = 0;
    for (let round = 0; round < N; round++) {
      let changed = false;
      for (let e = 0; e < to.length; e++) {
        if (cap[e] > 0 && dist[from[e]] + cost[e] < dist[to[e]]) {
          dist[to[e]] = dist[from[e]] + cost[e];
          via[to[e]] = e;
          changed = true;
        }
      }
      if (!changed) break;
    }
    if (dist[t] === Infinity) break;
    for (let v = t; v !== s; v = from[via[v]]) {
      cap[via[v]] -= 1;
      cap[via[v] ^ 1] += 1;
    }
    total += dist[t];
    count++;
  }
  return { count, cost: total };
}
