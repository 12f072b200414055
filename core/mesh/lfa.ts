/**
 * Loop-free alternates (RFC 5286) for the fast-reroute backups of the route table. The WASM core
 * picks a backup next hop on a node-disjoint path, but that neighbour forwards by its own (old)
 * table, which may lead back through the dead router. A loop-free alternate is a neighbour whose
 * own shortest paths already avoid the failure, so switching to it never loops.
 *
 * For source S, destination D and primary next hop N, a neighbour B (B != N) is
 * - loop-free when dist(B,D) < dist(B,S) + dist(S,D), and
 * - node-protecting when also dist(B,D) < dist(B,N) + dist(N,D)
 * (strict, so every equal-cost path of B avoids S or N). When N != D, the node-protecting one
 * minimising cost(S,B) + dist(B,D) (ties by id) replaces the core's backup; when N == D only link
 * protection is possible and the cheapest loop-free one is used. Otherwise the core's backup stays.
 *
 * @module
 */
import type { CoreGraph, RouteEntry } from "../../wasm/core.ts";

/** Relative margin of the strict inequalities (sums of float costs differ in the last bits). */
const EPS = 1e-9;

/** True when a < b by more than float noise. */
export function strictlyLess(a: number, b: number): boolean {
  return a < b - EPS * Math.max(1, Math.abs(b));
}

/** A neighbour's distances: dist[i] = shortest cost from the neighbour to node index i. */
export interface NeighbourDistances {
  /** Node index of the neighbour. */
  index: number;
  /** Cost of the link source -> neighbour. */
  linkCost: number;
  /** Shortest-path costs from the neighbour (Infinity when unreachable). */
  dist: Float64Array;
}

/** The alternate chosen for one destination. */
export interface LfaChoice {
  /** Node index of the alternate neighbour. */
  backup: number;
  /** "node" for a node-protecting LFA, "link" for a loop-free one towards a neighbour (N == D). */
  kind: "node" | "link";
  /** cost(S,B) + dist(B,D). */
  cost: number;
}

/**
 * Chooses the loop-free alternate of one destination, or null when none qualifies.
 *
 * @param source node index of S
 * @param dest node index of D
 * @param primary node index of the primary next hop N (a neighbour of S)
 * @param distSD shortest cost S -> D
 * @param neighbours distances of every neighbour of S (must include N)
 * @param ids node ids by index (ties are broken by id)
 */
export function chooseLfa(
  source: number,
  dest: number,
  primary: number,
  distSD: number,
  neighbours: readonly NeighbourDistances[],
  ids: readonly string[],
): LfaChoice | null {
  const n = neighbours.find((x) => x.index === primary);
  const nodeMode = primary !== dest;
  if (nodeMode && !n) return null;
  let best: LfaChoice | null = null;
  for (const b of neighbours) {
    if (b.index === primary || b.index === source) continue;
    const bd = b.dist[dest];
    if (!Number.isFinite(bd)) continue;
    if (!strictlyLess(bd, b.dist[source] + distSD)) continue;
    if (nodeMode && !strictlyLess(bd, b.dist[primary] + n!.dist[dest])) continue;
    const cost = b.linkCost + bd;
    if (
      best === null || cost < best.cost ||
      (cost === best.cost && ids[b.index] < ids[best.backup])
    ) {
      best = { backup: b.index, kind: nodeMode ? "node" : "link", cost };
    }
  }
  return best;
}

/**
 * Replaces the backups of a route table (from `g.routeTable(source, ...)`) by loop-free
 * alternates where they exist; entries without one keep the core's backup. One shortest-path
 * tree per neighbour of `source`.
 *
 * @param g the graph the table was computed on
 * @param source the table's source
 * @param linkCosts cost of the link source -> neighbour, per neighbour id
 * @param entries the core's route table (not modified)
 */
export function withLoopFreeAlternates(
  g: CoreGraph,
  source: string,
  linkCosts: ReadonlyMap<string, number>,
  entries: readonly RouteEntry[],
): RouteEntry[] {
  const s = g.indexOf(source);
  const trees = new Map<number, ReturnType<CoreGraph["shortestTree"]>>();
  const neighbours: NeighbourDistances[] = [];
  for (const [id, linkCost] of linkCosts) {
    const tree = g.shortestTree(id);
    trees.set(tree.source, tree);
    neighbours.push({ index: tree.source, linkCost, dist: tree.dist });
  }
  const ids = g.ids;
  return entries.map((e) => {
    const d = g.indexOf(e.destination);
    const choice = chooseLfa(s, d, g.indexOf(e.nextHop), e.cost, neighbours, ids);
    if (!choice) return e;
    const path = g.pathTo(trees.get(choice.backup)!, e.destination)!;
    return {
      ...e,
      backupNextHop: ids[choice.backup],
      backupPath: [source, ...path.nodes],
      backupCost: choice.cost,
      backupKind: choice.kind,
    };
  });
}
