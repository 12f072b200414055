/**
 * GraphSAGE-style neighbourhood aggregation for fault localisation: every node's feature vector
 * is joined with the mean of its neighbours' vectors (h_v ‖ mean_{u∈N(v)} h_u). On link loss the
 * loop compares a lossy link with the rest of this node's links and with the neighbour's other
 * links to tell a fault of this node, of one link, or of the neighbour apart.
 *
 * @module
 */

/** Undirected graph with a feature vector per node. */
export interface FeatureGraph {
  features: Map<string, number[]>;
  edges: ReadonlyArray<readonly [string, string]>;
}

/** A node's own features and the mean of its neighbours' (null without neighbours). */
export interface Aggregated {
  self: number[];
  neighbourMean: number[] | null;
  degree: number;
}

/**
 * One mean-aggregation layer over the graph (self-loops and repeated edges are ignored).
 *
 * @param graph nodes with equally long feature vectors, and edges between them
 */
export function meanAggregate(graph: FeatureGraph): Map<string, Aggregated> {
  const adj = new Map<string, Set<string>>();
  for (const id of graph.features.keys()) adj.set(id, new Set());
  for (const [a, b] of graph.edges) {
    if (a === b || !adj.has(a) || !adj.has(b)) continue;
    adj.get(a)!.add(b);
    adj.get(b)!.add(a);
  }
  const out = new Map<string, Aggregated>();
  for (const [id, h] of graph.features) {
    const ns = [...adj.get(id)!];
    let mean: number[] | null = null;
    if (ns.length > 0) {
      mean = new Array(h.length).fill(0);
      for (const n of ns) graph.features.get(n)!.forEach((v, i) => mean![i] += v / ns.length);
    }
    out.set(id, { self: [...h], neighbourMean: mean, degree: ns.length });
  }
  return out;
}

/** One measured link: loss in percent between two nodes. */
export interface LinkLoss {
  a: string;
  b: string;
  loss_percent: number;
}

/** Where a link-loss fault sits. */
export interface Localisation {
  kind: "node" | "link" | "neighbour";
  /** This node's id, the link "self|peer", or the neighbour's id. */
  id: string;
  /** Mean loss of this node's other links, of the neighbour's other links (null: unknown). */
  selfOthersLoss: number | null;
  neighbourOthersLoss: number | null;
}

/**
 * Localises loss on the link self–peer: every link of this node lossy → this node; the
 * neighbour's other links lossy → the neighbour; else the link itself. Node features are the
 * mean loss of each node's links other than self–peer, aggregated over the link graph.
 *
 * @param self this node's id
 * @param peer the neighbour on the lossy link
 * @param links measured links (this node's, and others' when the topology reports them)
 * @param threshold loss percent above which a link counts as lossy
 */
export function localiseLoss(
  self: string,
  peer: string,
  links: readonly LinkLoss[],
  threshold: number,
): Localisation {
  const isSuspect = (l: LinkLoss) =>
    (l.a === self && l.b === peer) || (l.a === peer && l.b === self);
  const others = links.filter((l) => !isSuspect(l));
  // A node's feature is the mean loss over its other incident links: the aggregation of its
  // link neighbourhood, computed with the same mean layer as every other feature.
  const nodes = new Set<string>([self, peer]);
  for (const l of others) nodes.add(l.a).add(l.b);
  const linkNodes = new Map<string, number[]>();
  const edges: [string, string][] = [];
  others.forEach((l, i) => {
    const id = `link#${i}`;
    linkNodes.set(id, [l.loss_percent]);
    edges.push([l.a, id], [l.b, id]);
  });
  const features = new Map<string, number[]>(linkNodes);
  for (const n of nodes) features.set(n, [0]);
  const agg = meanAggregate({ features, edges });
  const meanOf = (id: string) => agg.get(id)?.neighbourMean?.[0] ?? null;
  const selfOthers = meanOf(self);
  const peerOthers = meanOf(peer);
  if (selfOthers !== null && selfOthers > threshold) {
    return { kind: "node", id: self, selfOthersLoss: selfOthers, neighbourOthersLoss: peerOthers };
  }
  if (peerOthers !== null && peerOthers > threshold) {
    return {
      kind: "neighbour",
      id: peer,
      selfOthersLoss: selfOthers,
      neighbourOthersLoss: peerOthers,
    };
  }
  return {
    kind: "link",
    id: `${self}|${peer}`,
    selfOthersLoss: selfOthers,
    neighbourOthersLoss: peerOthers,
  };
}
