/**
 * Types, constants and struct encoders of the libbpf bindings (ffi/libbpf.ts re-exports
 * them): the error class, XDP flags, the object/map/program views and the `Libbpf` interface.
 *
 * @module
 */

/** A failed libbpf call: `errno` is positive, `op` names the call. */
export class LibbpfError extends Error {
  /** Positive errno value. */
  readonly errno: number;
  /** The libbpf function that failed. */
  readonly op: string;
  /** The verifier log, when a load failed. */
  readonly verifierLog?: string;
  /** The cause alone (e.g. libbpf's strerror text), for callers that add their own context. */
  readonly detail: string;
  /**
   * @param message sentence-case message, detail after a colon
   * @param errno positive errno
   * @param options failing call, bare detail and verifier log
   */
  constructor(
    message: string,
    errno: number,
    options: { op: string; detail?: string; verifierLog?: string },
  ) {
    super(message);
    this.name = "LibbpfError";
    this.errno = errno;
    this.op = options.op;
    this.detail = options.detail ?? message;
    this.verifierLog = options.verifierLog;
  }
}

/** XDP attach flags (linux/if_link.h). */
export const XDP_FLAGS = {
  UPDATE_IF_NOEXIST: 1,
  SKB_MODE: 2,
  DRV_MODE: 4,
  HW_MODE: 8,
  REPLACE: 16,
} as const;

/** `enum bpf_prog_type` values this project uses. */
export const BPF_PROG_TYPE_XDP = 6;

/** Map types whose values are per possible CPU: PERCPU_HASH, PERCPU_ARRAY, LRU_PERCPU_HASH. */
export const PERCPU_MAP_TYPES: ReadonlySet<number> = new Set([5, 6, 10]);

/** bpf_map_update_elem flags. */
export const BPF_ANY = 0n;

/** XDP attach mode: "skb" (generic, any interface) or "native" (driver). */
export type XdpMode = "skb" | "native";

/** What a program in an opened object looks like before load. */
export interface ProgramInfo {
  /** Function name. */
  name: string;
  /** ELF section name, e.g. "xdp". */
  section: string;
  /** `enum bpf_prog_type`. */
  type: number;
}

/** What a map in an opened object (or a loaded map) looks like. */
export interface MapInfo {
  /** Map name (at most 15 characters in the kernel). */
  name: string;
  /** `enum bpf_map_type`. */
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
}

/** A map reachable through a file descriptor. */
export interface MapHandle extends MapInfo {
  /** The map's file descriptor. */
  fd: number;
  /** True for per-CPU maps: values are `valueSize` rounded to 8, times the possible CPUs. */
  percpu: boolean;
}

/** An opened (maybe loaded) BPF object. */
export interface BpfObject {
  /** Programs in the object. */
  programs(): ProgramInfo[];
  /** Maps in the object. */
  maps(): MapInfo[];
  /** Loads every program into the kernel; on failure the error carries the verifier log. */
  load(): void;
  /** The fd of a loaded program. */
  programFd(name: string): number;
  /** A loaded map by name. */
  map(name: string): MapHandle;
  /** Frees the object; its fds close (attached XDP programs stay attached). */
  close(): void;
}

/** Identifies one TC filter: its handle and priority (at most 0xffff). */
export interface TcFilterId {
  handle: number;
  priority: number;
}

/** What `bpf_obj_get_info_by_fd` reports about a loaded program. */
export interface LoadedProgram {
  id: number;
  type: number;
  name: string;
  mapIds: number[];
}

/** The bound libbpf API. */
export interface Libbpf {
  /** "major.minor" of the loaded libbpf. */
  version: string;
  /** Number of possible CPUs (size factor of per-CPU map values). */
  possibleCpus: number;
  /** Opens an object from ELF bytes without touching the kernel. */
  openObject(bytes: Uint8Array, name: string): BpfObject;
  /** Attaches a program to an interface by netlink (persists after this process exits). */
  xdpAttach(ifindex: number, progFd: number, mode: XdpMode, options?: { replace?: boolean }): void;
  /** Detaches whatever XDP program `mode` holds on the interface. */
  xdpDetach(ifindex: number, mode: XdpMode): void;
  /** The attached XDP program ids of an interface (0 = none). */
  xdpQuery(ifindex: number): { progId: number; skbProgId: number; drvProgId: number; mode: number };
  /** The kernel id of a loaded program's fd. */
  programIdOfFd(fd: number): number;
  /**
   * Attaches a SCHED_CLS program as a clsact ingress filter (handle/priority identify it;
   * creates the clsact qdisc when missing). Persists after this process exits.
   */
  tcAttach(ifindex: number, progFd: number, where: TcFilterId & { replace?: boolean }): void;
  /** Removes the ingress filter `where`. */
  tcDetach(ifindex: number, where: TcFilterId): void;
  /** The program id of ingress filter `where`, or 0 when there is none. */
  tcQuery(ifindex: number, where: TcFilterId): number;
  /** Information about a loaded program, by id; null when no such program exists. */
  programById(id: number): LoadedProgram | null;
  /** Opens a loaded map by id. Close its fd with `closeFd`. */
  mapById(id: number): MapHandle;
  /** Looks up a key; returns the raw value bytes or null when absent. */
  lookup(map: MapHandle, key: Uint8Array): Uint8Array | null;
  /** Writes a value (BPF_ANY). */
  update(map: MapHandle, key: Uint8Array, value: Uint8Array): void;
  /** Deletes a key; false when it was absent. */
  delete(map: MapHandle, key: Uint8Array): boolean;
  /**
   * Every key and value of a map, in as few syscalls as the kernel allows (batch lookup,
   * falling back to key iteration plus lookups where batching is unsupported).
   */
  entries(map: MapHandle): { key: Uint8Array; value: Uint8Array }[];
  /** All keys of a hash map (bounded by max entries). */
  keys(map: MapHandle): Uint8Array[];
  /** Size of a value buffer for this map (per-CPU aware). */
  valueBufferSize(map: MapHandle): number;
  /** Closes an fd obtained by id. */
  closeFd(fd: number): void;
  /** libbpf's message for a (positive or negative) error code. */
  strerror(err: number): string;
  /** libbpf's own log lines (warnings) since the last call; clears them. */
  takeLog(): string[];
}

export const BPF_TC_INGRESS = 1;
export const BPF_TC_F_REPLACE = 1;

/** struct bpf_tc_hook { size_t sz; int ifindex; enum attach_point; u32 parent; } (24 bytes). */
export function tcHook(ifindex: number): Uint8Array<ArrayBuffer> {
  const buf = new Uint8Array(24);
  const v = new DataView(buf.buffer);
  v.setBigUint64(0, 24n, true);
  v.setInt32(8, ifindex, true);
  v.setUint32(12, BPF_TC_INGRESS, true);
  return buf;
}

/** struct bpf_tc_opts { size_t sz; int prog_fd; u32 flags, prog_id, handle, priority; } (32 bytes). */
export function tcOpts(
  where: TcFilterId,
  extra: { progFd?: number; replace?: boolean },
): Uint8Array<ArrayBuffer> {
  if (!Number.isInteger(where.priority) || where.priority < 1 || where.priority > 0xffff) {
    throw new RangeError(`TC priority must be 1..65535, got ${where.priority}`);
  }
  const buf = new Uint8Array(32);
  const v = new DataView(buf.buffer);
  v.setBigUint64(0, 32n, true);
  v.setInt32(8, extra.progFd ?? 0, true);
  v.setUint32(12, extra.replace ? BPF_TC_F_REPLACE : 0, true);
  v.setUint32(20, where.handle, true);
  v.setUint32(24, where.priority, true);
  return buf;
}
