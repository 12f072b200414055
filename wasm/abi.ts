/**
 * The raw ABI of x0_core.wasm: exported functions over linear memory. Buffers are allocated
 * with `alloc`, freed with `dealloc`; views over `memory.buffer` are recreated after every call
 * because a call may grow (and so detach) the buffer.
 *
 * @module
 */

/** Functions exported by x0_core.wasm (see wasm/crate/src/lib.rs). */
export interface CoreExports {
  memory: WebAssembly.Memory;
  alloc(bytes: number): number;
  dealloc(ptr: number, bytes: number): void;
  res_f64_ptr(): number;
  res_f64_len(): number;
  res_i32_ptr(): number;
  res_i32_len(): number;
  graph_new(
    n: number,
    m: number,
    off: number,
    dst: number,
    w: number,
    link: number,
    directed: number,
  ): number;
  graph_free(h: number): number;
  shortest_tree(h: number, s: number, dist: number, pred: number, nh: number): number;
  disjoint_paths(h: number, s: number, t: number, k: number, nodeDisjoint: number): number;
  route_table(h: number, s: number, nodeDisjoint: number): number;
  forest_fit(
    data: number,
    rows: number,
    cols: number,
    trees: number,
    sample: number,
    seedLo: number,
    seedHi: number,
  ): number;
  forest_score(h: number, data: number, rows: number, cols: number, out: number): number;
  forest_free(h: number): number;
  forest_sample_size(h: number): number;
}

/** Error codes returned by the core (negative return values). */
export const ABI_ERRORS: Record<number, string> = {
  [-1]: "unknown or freed handle",
  [-2]: "node index out of range",
  [-3]: "invalid argument",
  [-10]: "offsets are not a valid CSR index",
  [-11]: "arc target out of range",
  [-12]: "weight is negative, NaN or infinite",
  [-13]: "undirected link ids do not pair arcs",
};

/** A block of linear memory owned by the wrapper. */
export interface Block {
  ptr: number;
  bytes: number;
}

/** Allocates `bytes` in the module's memory or throws. */
export function allocBlock(ex: CoreExports, bytes: number): Block {
  const size = Math.max(8, bytes);
  const ptr = ex.alloc(size);
  if (ptr === 0) throw new RangeError(`WASM core out of memory: cannot allocate ${size} bytes`);
  return { ptr, bytes: size };
}

/** Frees a block from allocBlock. */
export function freeBlock(ex: CoreExports, block: Block): void {
  ex.dealloc(block.ptr, block.bytes);
}

/** Copies a typed array into a fresh block; the caller frees it. */
export function copyIn(ex: CoreExports, src: Float64Array | Int32Array): Block {
  const block = allocBlock(ex, src.byteLength);
  if (src instanceof Float64Array) {
    new Float64Array(ex.memory.buffer, block.ptr, src.length).set(src);
  } else {
    new Int32Array(ex.memory.buffer, block.ptr, src.length).set(src);
  }
  return block;
}

/** Throws when a core call returned an error code. */
export function check(code: number, what: string): number {
  if (code < 0) {
    throw new Error(`WASM core ${what} failed: ${ABI_ERRORS[code] ?? `code ${code}`}`);
  }
  return code;
}

/** The core's float result buffer (valid until the next call). */
export function resultF64(ex: CoreExports): Float64Array {
  return new Float64Array(ex.memory.buffer, ex.res_f64_ptr(), ex.res_f64_len());
}

/** The core's integer result buffer (valid until the next call). */
export function resultI32(ex: CoreExports): Int32Array {
  return new Int32Array(ex.memory.buffer, ex.res_i32_ptr(), ex.res_i32_len());
}
