/**
 * Typed entry point of the WASM compute core (wasm/x0_core.wasm, built from wasm/crate by
 * `deno task build:wasm`). Load it once, then every call is synchronous:
 *
 * @example
 * ```ts
 * const core = await loadCore();
 * using g = core.graph(csr);
 * const table = g.routeTable("r1", { disjoint: "node" });
 * ```
 *
 * @module
 */
import type { CoreExports } from "./abi.ts";
import { CoreForest, type ForestOptions, type Matrix } from "./forest.ts";
import { CoreGraph, type CsrGraph } from "./graph.ts";

export { CoreInputError } from "./errors.ts";
export { CoreForest, type ForestOptions, type Matrix, toMatrix } from "./forest.ts";
export {
  type BackupKind,
  CoreGraph,
  type CsrGraph,
  type Disjointness,
  type DisjointPaths,
  MAX_K,
  type RawRouteTable,
  type RouteEntry,
  type ShortestTree,
  validateCsr,
  type WeightedPath,
} from "./graph.ts";

/**
 * Where the committed module lives. Spelled from the folder above so it also holds inside the
 * agent bundle in dist/ (one folder below the root too; see core/paths.ts).
 */
export const CORE_WASM_URL: URL = new URL("../wasm/x0_core.wasm", import.meta.url);

/** One instance of the compute core. */
export interface Core {
  /** Copies a CSR graph into the core (validated first). */
  graph(csr: CsrGraph): CoreGraph;
  /** Fits an Isolation Forest on a training matrix. */
  fitForest(train: Matrix | readonly (readonly number[])[], options?: ForestOptions): CoreForest;
  /** Size of the core's linear memory in bytes (for leak checks). */
  memoryBytes(): number;
  /** Graphs and forests not yet freed. */
  liveObjects(): number;
}

/** Instantiates the core synchronously from module bytes (a fresh, independent instance). */
export function instantiateCore(bytes: BufferSource): Core {
  const module = new WebAssembly.Module(bytes);
  const ex = new WebAssembly.Instance(module, {}).exports as unknown as CoreExports;
  const live = new Set<object>();
  const release = (o: object) => void live.delete(o);
  return {
    graph(csr) {
      const g = new CoreGraph(ex, csr, release);
      live.add(g);
      return g;
    },
    fitForest(train, options = {}) {
      const f = new CoreForest(ex, train, options, release);
      live.add(f);
      return f;
    },
    memoryBytes: () => ex.memory.buffer.byteLength,
    liveObjects: () => live.size,
  };
}

let shared: Promise<Core> | null = null;

/**
 * The process-wide core, loaded from wasm/x0_core.wasm on first use (needs read permission on
 * that file). Pass `fresh: true` for a separate instance with its own memory.
 */
export function loadCore(options: { fresh?: boolean; url?: URL } = {}): Promise<Core> {
  const load = async () => instantiateCore(await Deno.readFile(options.url ?? CORE_WASM_URL));
  if (options.fresh || options.url) return load();
  shared ??= load().catch((err) => {
    shared = null;
    throw new Error(`Cannot load the WASM core from ${CORE_WASM_URL.pathname}: ${err.message}`, {
      cause: err,
    });
  });
  return shared;
}
