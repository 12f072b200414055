/**
 * Checks shared by the WASM graph tests: seeded graph families, path validity, disjointness.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { CsrGraph } from "../../wasm/core.ts";
import { randomGraph, seededRandom } from "../../core/routing/random_graph.ts";

/** One graph of the property-test corpus, with a label saying which family it is from. */
export interface Case {
  label: string;
  csr: CsrGraph;
}

/**
 * `count` seeded random graphs cycling through the families: sparse, dense, disconnected,
 * equal-weight ties, zero weights; directed and undirected.
 */
export function corpus(count: number, maxNodes = 40): Case[] {
  const out: Case[] = [];
  for (let seed = 1; seed <= count; seed++) {
    const r = seededRandom(seed * 7919);
    const n = 2 + Math.floor(r() * (maxNodes - 1));
    const family = seed % 5;
    const directed = seed % 2 === 0;
    const opts = [
      { label: "sparse", links: Math.floor(n * 1.2) },
      { label: "dense", links: Math.floor((n * (n - 1)) / 3) },
      { label: "disconnected", links: n * 2, components: 3 },
      { label: "ties", links: n * 3, integerWeights: 2 },
      { label: "zero-weights", links: n * 3, zeroWeight: 0.3, integerWeights: 3 },
    ][family];
    out.push({
      label: `${opts.label} ${directed ? "directed" : "undirected"} n=${n} seed=${seed}`,
      csr: randomGraph(r, { n, directed, ...opts }),
    });
  }
  return out;
}

/** Weights of the arcs u -> v (parallel links give several). */
export function arcWeights(g: CsrGraph, u: number, v: number): number[] {
  const out: number[] = [];
  for (let a = g.offsets[u]; a < g.offsets[u + 1]; a++) {
    if (g.targets[a] === v) out.push(g.weights[a]);
  }
  return out;
}

/** Asserts `nodes` is a simple s-t walk over existing arcs and `cost` is achievable. */
export function assertPath(g: CsrGraph, nodes: string[], cost: number, s: string, t: string) {
  const idx = new Map(g.ids.map((id, i) => [id, i]));
  assert.equal(nodes[0], s);
  assert.equal(nodes[nodes.length - 1], t);
  assert.equal(new Set(nodes).size, nodes.length, `path revisits a node: ${nodes.join(",")}`);
  let min = 0;
  for (let i = 0; i + 1 < nodes.length; i++) {
    const w = arcWeights(g, idx.get(nodes[i])!, idx.get(nodes[i + 1])!);
    assert.ok(w.length > 0, `no arc ${nodes[i]} -> ${nodes[i + 1]}`);
    min += Math.min(...w);
  }
  assert.ok(cost >= min - 1e-9, `cost ${cost} below the cheapest arcs ${min}`);
}

/** Number of links between u and v usable by edge-disjoint paths (parallel links count). */
function linkCapacity(g: CsrGraph, u: number, v: number): number {
  return arcWeights(g, u, v).length;
}

/** Asserts the paths share no intermediate node ("node") or no link ("edge"). */
export function assertDisjoint(g: CsrGraph, paths: string[][], mode: "edge" | "node") {
  const idx = new Map(g.ids.map((id, i) => [id, i]));
  if (mode === "node") {
    const seen = new Set<string>();
    for (const p of paths) {
      for (const v of p.slice(1, -1)) {
        assert.ok(!seen.has(v), `node ${v} is shared: ${JSON.stringify(paths)}`);
        seen.add(v);
      }
    }
  }
  // Link use (both modes): never more traversals of u-v than there are links.
  const use = new Map<string, number>();
  for (const p of paths) {
    for (let i = 0; i + 1 < p.length; i++) {
      const [a, b] = g.directed ? [p[i], p[i + 1]] : [p[i], p[i + 1]].sort();
      const key = `${a}\u0000${b}`;
      use.set(key, (use.get(key) ?? 0) + 1);
    }
  }
  for (const [key, count] of use) {
    const [a, b] = key.split("\u0000");
    assert.ok(
      count <= linkCapacity(g, idx.get(a)!, idx.get(b)!),
      `link ${a}-${b} used ${count} times: ${JSON.stringify(paths)}`,
    );
  }
}
