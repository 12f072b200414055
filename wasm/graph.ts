/**
 * A graph loaded into the WASM core: shortest paths, next hops, k disjoint paths and the
 * fast-reroute table of a source, addressed by string node ids.
 *
 * @module
 */
import {
  allocBlock,
  type Block,
  check,
  copyIn,
  type CoreExports,
  freeBlock,
  resultF64,
  resultI32,
} from "./abi.ts";
import { CoreInputError } from "./errors.ts";

/** A graph in compressed sparse row form: arcs of node u are `offsets[u]..offsets[u+1]`. */
export interface CsrGraph {
  /** Node ids; node index i is `ids[i]`. */
  ids: readonly string[];
  /** False when every link is two arcs (u->v and v->u) sharing one link index. */
  directed: boolean;
  /** n + 1 arc offsets. */
  offsets: Int32Array;
  /** m arc targets (node indices). */
  targets: Int32Array;
  /** m arc weights, finite and >= 0. */
  weights: Float64Array;
  /** m link indices: which input link each arc came from. */
  links: Int32Array;
}

/** Which resource two paths must not share: links ("edge") or intermediate nodes ("node"). */
export type Disjointness = "edge" | "node";

/** A path as node ids plus the sum of its link weights. */
export interface WeightedPath {
  nodes: string[];
  cost: number;
}

/** Result of a k-disjoint-paths query (paths in increasing cost). */
export interface DisjointPaths {
  paths: WeightedPath[];
  total_cost: number;
}

/** Shortest-path tree of one source (indices into `ids`; -1 = none). */
export interface ShortestTree {
  source: number;
  dist: Float64Array;
  pred: Int32Array;
  nextHop: Int32Array;
}

/**
 * How a backup protects the primary route. The backup is the shortest path of the first kind
 * that exists: "disjoint" shares no link (edge mode) or no intermediate node (node mode) with
 * the primary; "node" avoids the primary next-hop router; "link" avoids only the primary's
 * first link.
 */
export type BackupKind = "disjoint" | "node" | "link";

/** One destination of a fast-reroute table. */
export interface RouteEntry {
  destination: string;
  cost: number;
  nextHop: string;
  path: string[];
  backupNextHop: string | null;
  backupPath: string[] | null;
  backupCost: number | null;
  backupKind: BackupKind | null;
}

/** The route table as flat arrays (node indices), for callers that avoid allocations. */
export interface RawRouteTable {
  cost: Float64Array;
  backupCost: Float64Array;
  nextHop: Int32Array;
  pred: Int32Array;
  backupNextHop: Int32Array;
  /** 0 none, 1 disjoint, 2 node, 3 link */
  backupKind: Int32Array;
  backupStart: Int32Array;
  backupLength: Int32Array;
  /** Backing array that backupStart / backupLength index into. */
  nodes: Int32Array;
}

const KINDS: (BackupKind | null)[] = [null, "disjoint", "node", "link"];

/** Largest k accepted by disjointPaths. */
export const MAX_K = 64;

/** Checks a CSR graph and throws CoreInputError naming the first problem. */
export function validateCsr(csr: CsrGraph): void {
  const n = csr.ids.length;
  const m = csr.targets.length;
  if (csr.offsets.length !== n + 1) {
    throw new CoreInputError(
      `Dimension mismatch: offsets has ${csr.offsets.length} entries, expected ${n + 1}`,
    );
  }
  if (csr.weights.length !== m || csr.links.length !== m) {
    throw new CoreInputError(
      `Dimension mismatch: ${m} targets, ${csr.weights.length} weights, ${csr.links.length} link ids`,
    );
  }
  if (csr.offsets[0] !== 0 || csr.offsets[n] !== m) {
    throw new CoreInputError(`Invalid CSR offsets: must start at 0 and end at ${m}`);
  }
  for (let u = 0; u < n; u++) {
    const a = csr.offsets[u], b = csr.offsets[u + 1];
    if (b < a) throw new CoreInputError(`Invalid CSR offsets: decreasing at node ${csr.ids[u]}`);
    for (let e = a; e < b; e++) {
      const v = csr.targets[e];
      if (!(v >= 0 && v < n)) {
        throw new CoreInputError(`Unknown node index in arc ${e} from ${csr.ids[u]}: ${v}`);
      }
      const w = csr.weights[e];
      if (!(w >= 0) || w === Infinity) {
        throw new CoreInputError(
          `Invalid link weight ${csr.ids[u]} -> ${csr.ids[v]}: ${w} (must be finite and >= 0)`,
        );
      }
    }
  }
}

/** A graph owned by the WASM core; call `free()` (or use `using`) when done. */
export class CoreGraph {
  #ex: CoreExports;
  #handle: number;
  #ids: readonly string[];
  #index = new Map<string, number>();
  #out: Block | null = null;
  #onFree: (graph: CoreGraph) => void;

  /**
   * @param ex the core's exports
   * @param csr validated here, then copied into the core
   * @param onFree called once when the graph is freed
   */
  constructor(ex: CoreExports, csr: CsrGraph, onFree: (graph: CoreGraph) => void) {
    validateCsr(csr);
    csr.ids.forEach((id, i) => {
      if (this.#index.has(id)) throw new CoreInputError(`Duplicate node id: ${id}`);
      this.#index.set(id, i);
    });
    this.#ex = ex;
    this.#ids = [...csr.ids]; // a copy: later changes to the caller's array cannot remap nodes
    this.#onFree = onFree;
    const blocks = [csr.offsets, csr.targets, csr.weights, csr.links].map((a) => copyIn(ex, a));
    try {
      const [off, dst, w, link] = blocks;
      this.#handle = check(
        ex.graph_new(
          csr.ids.length,
          csr.targets.length,
          off.ptr,
          dst.ptr,
          w.ptr,
          link.ptr,
          csr.directed ? 1 : 0,
        ),
        "graph_new",
      );
    } finally {
      for (const b of blocks) freeBlock(ex, b);
    }
  }

  /** Core handle (internal; used by the leak guard). */
  get handle(): number {
    return this.#handle;
  }

  /** Number of nodes. */
  get size(): number {
    return this.#ids.length;
  }

  /** Node ids by index. */
  get ids(): readonly string[] {
    return this.#ids;
  }

  /** Index of a node id; throws CoreInputError for an unknown id. */
  indexOf(id: string): number {
    const i = this.#index.get(id);
    if (i === undefined) throw new CoreInputError(`Unknown node id: ${id}`);
    return i;
  }

  #live(): number {
    if (this.#handle === 0) throw new Error("Graph was already freed");
    return this.#handle;
  }

  /**
   * Dijkstra from a source index, writing into caller-owned arrays of length n (no allocation
   * on the JS side: the hot path for benchmarks and the agent).
   */
  shortestTreeInto(source: number, dist: Float64Array, pred?: Int32Array, nextHop?: Int32Array) {
    const h = this.#live();
    const n = this.#ids.length;
    if (!(Number.isInteger(source) && source >= 0 && source < n)) {
      throw new CoreInputError(`Unknown node index: ${source}`);
    }
    if (dist.length !== n || (pred && pred.length !== n) || (nextHop && nextHop.length !== n)) {
      throw new CoreInputError(`Dimension mismatch: output arrays must have ${n} entries`);
    }
    this.#out ??= allocBlock(this.#ex, n * 16);
    const p = this.#out.ptr;
    check(
      this.#ex.shortest_tree(h, source, p, pred ? p + n * 8 : 0, nextHop ? p + n * 12 : 0),
      "shortest_tree",
    );
    const buf = this.#ex.memory.buffer;
    dist.set(new Float64Array(buf, p, n));
    if (pred) pred.set(new Int32Array(buf, p + n * 8, n));
    if (nextHop) nextHop.set(new Int32Array(buf, p + n * 12, n));
  }

  /** Shortest-path tree of `source`: distances (Infinity when unreachable), preds, next hops. */
  shortestTree(source: string): ShortestTree {
    const s = this.indexOf(source);
    const n = this.#ids.length;
    const tree = {
      source: s,
      dist: new Float64Array(n),
      pred: new Int32Array(n),
      nextHop: new Int32Array(n),
    };
    this.shortestTreeInto(s, tree.dist, tree.pred, tree.nextHop);
    return tree;
  }

  /** The path to `target` in a tree from shortestTree, or null when unreachable. */
  pathTo(tree: ShortestTree, target: string): WeightedPath | null {
    const t = this.indexOf(target);
    if (!Number.isFinite(tree.dist[t])) return null;
    const nodes: string[] = [];
    for (let v = t; v !== -1; v = v === tree.source ? -1 : tree.pred[v]) nodes.push(this.#ids[v]);
    return { nodes: nodes.reverse(), cost: tree.dist[t] };
  }

  /** Next hop of `source` towards every reachable destination (what a router installs). */
  nextHops(source: string): Map<string, string> {
    const tree = this.shortestTree(source);
    const out = new Map<string, string>();
    tree.nextHop.forEach((h, v) => {
      if (h >= 0) out.set(this.#ids[v], this.#ids[h]);
    });
    return out;
  }

  /**
   * Up to k pairwise disjoint paths from `from` to `to` with minimum total cost (Suurballe /
   * successive shortest paths), in increasing cost; fewer when fewer disjoint paths exist.
   */
  disjointPaths(
    from: string,
    to: string,
    options: { k?: number; disjoint?: Disjointness } = {},
  ): DisjointPaths {
    const h = this.#live();
    const k = options.k ?? 2;
    const mode = options.disjoint ?? "edge";
    const s = this.indexOf(from), t = this.indexOf(to);
    if (!(Number.isInteger(k) && k >= 1 && k <= MAX_K)) {
      throw new CoreInputError(`Invalid k: ${k} (expected an integer from 1 to ${MAX_K})`);
    }
    if (mode !== "edge" && mode !== "node") {
      throw new CoreInputError(`Invalid disjointness: ${mode} (expected edge or node)`);
    }
    if (s === t) throw new CoreInputError(`Source and destination are the same node: ${from}`);
    const count = check(this.#ex.disjoint_paths(h, s, t, k, mode === "node" ? 1 : 0), "paths");
    const costs = resultF64(this.#ex);
    const ints = resultI32(this.#ex);
    const paths: WeightedPath[] = [];
    let at = count;
    for (let i = 0; i < count; i++) {
      const len = ints[i];
      const nodes = Array.from(ints.subarray(at, at + len), (v) => this.#ids[v]);
      at += len;
      paths.push({ nodes, cost: costs[i] });
    }
    return { paths, total_cost: paths.reduce((sum, p) => sum + p.cost, 0) };
  }

  /** The fast-reroute table of a source index as flat arrays (copied out of the core). */
  routeTableRaw(source: number, disjoint: Disjointness = "node"): RawRouteTable {
    const h = this.#live();
    const n = this.#ids.length;
    if (!(Number.isInteger(source) && source >= 0 && source < n)) {
      throw new CoreInputError(`Unknown node index: ${source}`);
    }
    check(this.#ex.route_table(h, source, disjoint === "node" ? 1 : 0), "route_table");
    const f = resultF64(this.#ex).slice();
    const i = resultI32(this.#ex).slice();
    return {
      cost: f.subarray(0, n),
      backupCost: f.subarray(n, 2 * n),
      nextHop: i.subarray(0, n),
      pred: i.subarray(n, 2 * n),
      backupNextHop: i.subarray(2 * n, 3 * n),
      backupKind: i.subarray(3 * n, 4 * n),
      backupStart: i.subarray(4 * n, 5 * n),
      backupLength: i.subarray(5 * n, 6 * n),
      nodes: i,
    };
  }

  /**
   * Primary and backup route to every destination reachable from `source`, in one call: what
   * the mesh agent recomputes on every topology change and what fast reroute installs.
   */
  routeTable(source: string, options: { disjoint?: Disjointness } = {}): RouteEntry[] {
    const mode = options.disjoint ?? "node";
    if (mode !== "edge" && mode !== "node") {
      throw new CoreInputError(`Invalid disjointness: ${mode} (expected edge or node)`);
    }
    const s = this.indexOf(source);
    const raw = this.routeTableRaw(s, mode);
    const ids = this.#ids;
    const entries: RouteEntry[] = [];
    for (let t = 0; t < ids.length; t++) {
      if (t === s || raw.nextHop[t] < 0) continue;
      const path: string[] = [];
      for (let v = t; v !== s; v = raw.pred[v]) path.push(ids[v]);
      path.push(ids[s]);
      const kind = KINDS[raw.backupKind[t]];
      let backupPath: string[] | null = null;
      if (kind) {
        const start = raw.backupStart[t];
        backupPath = Array.from(
          raw.nodes.subarray(start, start + raw.backupLength[t]),
          (v) => ids[v],
        );
      }
      entries.push({
        destination: ids[t],
        cost: raw.cost[t],
        nextHop: ids[raw.nextHop[t]],
        path: path.reverse(),
        backupNextHop: kind ? ids[raw.backupNextHop[t]] : null,
        backupPath,
        backupCost: kind ? raw.backupCost[t] : null,
        backupKind: kind,
      });
    }
    return entries;
  }

  /** Releases the graph in the core; later calls throw. Safe to call twice. */
  free(): void {
    if (this.#handle === 0) return;
    check(this.#ex.graph_free(this.#handle), "graph_free");
    if (this.#out) freeBlock(this.#ex, this.#out);
    this.#out = null;
    this.#handle = 0;
    this.#onFree(this);
  }

  /** Frees the graph at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.free();
  }
}
