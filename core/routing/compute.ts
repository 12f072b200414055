/**
 * Routing computations through the WASM core, by node id: k disjoint paths between two nodes
 * and the fast-reroute table of a source. Core input errors become ValidationErrors, so callers
 * (CLI, HTTP, the mesh agent) see one error type for bad input.
 *
 * @module
 */
import {
  type CoreGraph,
  CoreInputError,
  type CsrGraph,
  type Disjointness,
  type DisjointPaths,
  loadCore,
  type RouteEntry,
} from "../../wasm/core.ts";
import { ValidationError } from "../errors.ts";
import { buildCsr, type Topology } from "./graph.ts";

async function withGraph<T>(input: Topology | CsrGraph, fn: (g: CoreGraph) => T): Promise<T> {
  const csr = "offsets" in input ? input : buildCsr(input);
  const core = await loadCore();
  try {
    using g = core.graph(csr);
    return fn(g);
  } catch (err) {
    if (err instanceof CoreInputError) throw new ValidationError(err.message, { cause: err });
    throw err;
  }
}

/**
 * Up to k pairwise disjoint paths from `from` to `to` with minimum total cost, cheapest first.
 *
 * @param input a topology (validated and converted) or a CSR graph
 * @param ends the two node ids
 * @param options k (default 2) and disjointness (default "edge")
 */
export function findDisjointPaths(
  input: Topology | CsrGraph,
  ends: { from: string; to: string },
  options: { k?: number; disjoint?: Disjointness } = {},
): Promise<DisjointPaths> {
  return withGraph(input, (g) => g.disjointPaths(ends.from, ends.to, options));
}

/**
 * Primary and backup route from `source` to every reachable destination (see
 * CoreGraph.routeTable); what the mesh agent installs and fast reroute switches to.
 *
 * @param input a topology or a CSR graph
 * @param source the computing router's node id
 * @param options disjointness of backups (default "node")
 */
export function computeRouteTable(
  input: Topology | CsrGraph,
  source: string,
  options: { disjoint?: Disjointness } = {},
): Promise<RouteEntry[]> {
  return withGraph(input, (g) => g.routeTable(source, options));
}
