/**
 * Topology to CSR graph: string node ids become indices 0..n-1 (in the order of `nodes`), each
 * link becomes one arc (directed) or two arcs sharing the link's index (undirected), and arcs
 * are grouped by source node. Link weights come from `weight` when given, else from measured
 * RTT / loss / jitter (see link_weight.ts), else 1 (hop count).
 *
 * @module
 */
import { z } from "zod";
import type { CsrGraph } from "../../wasm/core.ts";
import { ValidationError } from "../errors.ts";
import { linkWeight } from "./link_weight.ts";

/** One link of a topology. */
export interface TopologyLink {
  source: string;
  target: string;
  weight?: number;
  rtt_ms?: number;
  loss_percent?: number;
  jitter_ms?: number;
}

/** A topology as operators write it (g.json) and as the mesh agent holds it. */
export interface Topology {
  directed: boolean;
  nodes: { id: string }[];
  links: TopologyLink[];
}

const nonNegative = z.number().min(0);

/** Schema of a topology file: `{"directed":false,"nodes":[{"id":"A"}],"links":[...]}`. */
export const topologySchema = z.object({
  directed: z.boolean().default(false),
  nodes: z.array(z.object({ id: z.string().min(1) })),
  links: z.array(z.object({
    source: z.string().min(1),
    target: z.string().min(1),
    weight: nonNegative.optional(),
    rtt_ms: nonNegative.optional(),
    loss_percent: nonNegative.max(100).optional(),
    jitter_ms: nonNegative.optional(),
  })),
});

/** Parses untrusted JSON into a Topology; throws ValidationError naming the bad field. */
export function parseTopology(input: unknown): Topology {
  const r = topologySchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue.path.length ? issue.path.join(".") : "topology";
    throw new ValidationError(`Invalid topology at ${where}: ${issue.message}`);
  }
  return r.data;
}

function weightOf(link: TopologyLink): number {
  if (link.weight !== undefined) return link.weight;
  if (
    link.rtt_ms !== undefined || link.loss_percent !== undefined || link.jitter_ms !== undefined
  ) {
    return linkWeight({
      rtt_ms: link.rtt_ms ?? 0,
      loss_percent: link.loss_percent ?? 0,
      jitter_ms: link.jitter_ms ?? 0,
    });
  }
  return 1;
}

/** Builds the CSR graph of a topology; throws ValidationError on any inconsistency. */
export function buildCsr(topology: Topology): CsrGraph {
  const ids = topology.nodes.map((n) => n.id);
  const index = new Map<string, number>();
  ids.forEach((id, i) => {
    if (index.has(id)) throw new ValidationError(`Duplicate node id: ${id}`);
    index.set(id, i);
  });
  const links = topology.links;
  const L = links.length;
  const src = new Int32Array(L), dst = new Int32Array(L), w = new Float64Array(L);
  for (let i = 0; i < L; i++) {
    const l = links[i];
    const u = index.get(l.source), v = index.get(l.target);
    if (u === undefined) throw new ValidationError(`Unknown node id in link ${i}: ${l.source}`);
    if (v === undefined) throw new ValidationError(`Unknown node id in link ${i}: ${l.target}`);
    if (u === v) throw new ValidationError(`Link ${i} is a self-loop: ${l.source}`);
    const x = weightOf(l);
    if (typeof x !== "number" || !(x >= 0) || x === Infinity) {
      throw new ValidationError(
        `Invalid weight on link ${l.source} -> ${l.target}: ${x} (must be finite and >= 0)`,
      );
    }
    src[i] = u;
    dst[i] = v;
    w[i] = x;
  }
  return csrFromArrays(ids, src, dst, w, topology.directed);
}

/**
 * CSR from parallel link arrays (already validated indices): a counting sort by source.
 * Exposed for benchmarks and generators that have numeric links.
 */
export function csrFromArrays(
  ids: readonly string[],
  src: Int32Array,
  dst: Int32Array,
  weight: Float64Array,
  directed: boolean,
): CsrGraph {
  const n = ids.length, L = src.length;
  const m = directed ? L : 2 * L;
  const offsets = new Int32Array(n + 1);
  for (let i = 0; i < L; i++) {
    offsets[src[i] + 1]++;
    if (!directed) offsets[dst[i] + 1]++;
  }
  for (let u = 0; u < n; u++) offsets[u + 1] += offsets[u];
  const fill = offsets.slice(0, n);
  const targets = new Int32Array(m), weights = new Float64Array(m), linkIds = new Int32Array(m);
  const put = (u: number, v: number, x: number, link: number) => {
    const a = fill[u]++;
    targets[a] = v;
    weights[a] = x;
    linkIds[a] = link;
  };
  for (let i = 0; i < L; i++) {
    put(src[i], dst[i], weight[i], i);
    if (!directed) put(dst[i], src[i], weight[i], i);
  }
  return { ids, directed, offsets, targets, weights, links: linkIds };
}
