/**
 * Turns the link-state database into a graph and asks the WASM core for the fast-reroute table
 * of this router: per destination the primary next hop and a node-disjoint backup, replaced by a
 * loop-free alternate (RFC 5286, see lfa.ts) where one exists. A link is
 * used only when both ends advertise it (two-way check), at the cost its origin advertises.
 *
 * @module
 */
import { type Core, type CsrGraph, loadCore, type RouteEntry } from "../../wasm/core.ts";
import type { Lsa } from "./control_message.ts";
import { withLoopFreeAlternates } from "./lfa.ts";

export type { RouteEntry } from "../../wasm/core.ts";

/** A directed arc of the topology. */
export interface Arc {
  from: string;
  to: string;
  cost: number;
}

/** The topology built from LSAs: node ids (sorted) and two-way-checked directed arcs. */
export interface Topology {
  ids: string[];
  arcs: Arc[];
}

/**
 * Builds the topology from LSAs (one per origin).
 *
 * @param lsas the newest LSA of every origin
 */
export function topologyFromLsas(lsas: Iterable<Lsa>): Topology {
  const byOrigin = new Map<string, Lsa>();
  for (const lsa of lsas) byOrigin.set(lsa.origin, lsa);
  const ids = [...byOrigin.keys()].sort();
  const arcs: Arc[] = [];
  for (const id of ids) {
    for (const link of byOrigin.get(id)!.links) {
      const back = byOrigin.get(link.neighbour);
      if (!back || !back.links.some((l) => l.neighbour === id)) continue;
      arcs.push({ from: id, to: link.neighbour, cost: link.cost });
    }
  }
  return { ids, arcs };
}

/** Converts a topology to the core's CSR form (directed arcs, one link index per arc). */
export function toCsr(topology: Topology): CsrGraph {
  const index = new Map(topology.ids.map((id, i) => [id, i]));
  const n = topology.ids.length;
  const sorted = [...topology.arcs].sort((a, b) => index.get(a.from)! - index.get(b.from)!);
  const offsets = new Int32Array(n + 1);
  for (const a of sorted) offsets[index.get(a.from)! + 1]++;
  for (let i = 0; i < n; i++) offsets[i + 1] += offsets[i];
  return {
    ids: topology.ids,
    directed: true,
    offsets,
    targets: Int32Array.from(sorted, (a) => index.get(a.to)!),
    weights: Float64Array.from(sorted, (a) => a.cost),
    links: Int32Array.from(sorted, (_, i) => i),
  };
}

/** Cost of the cheapest arc `source` -> neighbour, per neighbour id. */
export function linkCostsFrom(topology: Topology, source: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const a of topology.arcs) {
    if (a.from !== source || a.to === source) continue;
    out.set(a.to, Math.min(a.cost, out.get(a.to) ?? Infinity));
  }
  return out;
}

/** Computes route tables; the agent holds one. */
export interface RouteEngine {
  /** Primary and backup route from `source` to every reachable destination. */
  routeTable(topology: Topology, source: string): RouteEntry[];
}

/** The route engine backed by the WASM core (loads wasm/x0_core.wasm once). */
export async function wasmRouteEngine(core?: Core): Promise<RouteEngine> {
  const c = core ?? await loadCore();
  return {
    routeTable(topology, source) {
      if (!topology.ids.includes(source)) return [];
      using g = c.graph(toCsr(topology));
      return withLoopFreeAlternates(
        g,
        source,
        linkCostsFrom(topology, source),
        g.routeTable(source, { disjoint: "node" }),
      );
    },
  };
}

/**
 * Shortest-path costs from `source` by a plain O(n²) Dijkstra: the simple reference the
 * property tests hold the core's answers against.
 */
export function referenceCosts(topology: Topology, source: string): Map<string, number> {
  const dist = new Map<string, number>(topology.ids.map((id) => [id, Infinity]));
  if (!dist.has(source)) return new Map();
  dist.set(source, 0);
  const done = new Set<string>();
  while (done.size < topology.ids.length) {
    let u: string | null = null;
    for (const [id, d] of dist) {
      if (!done.has(id) && d < Infinity && (u === null || d < dist.get(u)!)) u = id;
    }
    if (u === null) break;
    done.add(u);
    for (const a of topology.arcs) {
      if (a.from === u && dist.get(u)! + a.cost < dist.get(a.to)!) {
        dist.set(a.to, dist.get(u)! + a.cost);
      }
    }
  }
  dist.delete(source);
  for (const [id, d] of dist) if (d === Infinity) dist.delete(id);
  return dist;
}
