/**
 * Deno FFI bindings to `libbpf.so.1` (libbpf 1.x): open an object from memory, load it with the
 * verifier log captured on failure, find programs and maps, attach/detach XDP through netlink
 * (generic or native mode), and map lookup/update/delete/iterate including per-CPU maps. Also
 * finds a loaded program's maps by id, so a later process can read counters of a program
 * another process attached.
 *
 * Standalone on purpose (imports nothing from core/): failures throw `LibbpfError`.
 *
 * @module
 */
import { libc } from "./libc.ts";

/** A failed libbpf call: `errno` is positive, `op` names the call. */
export class LibbpfError extends Error {
  /** Positive errno value. */
  readonly errno: number;
  /** The libbpf function that failed. */
  readonly op: string;
  /** The verifier log, when a load failed. */
  readonly verifierLog?: string;
  /**
   * @param message sentence-case message, detail after a colon
   * @param errno positive errno
   * @param options failing call and verifier log
   */
  constructor(message: string, errno: number, options: { op: string; verifierLog?: string }) {
    super(message);
    this.name = "LibbpfError";
    this.errno = errno;
    this.op = options.op;
    this.verifierLog = options.verifierLog;
  }
}

const SYMBOLS = {
  libbpf_strerror: { parameters: ["i32", "buffer", "usize"], result: "i32" },
  libbpf_set_print: { parameters: ["pointer"], result: "pointer" },
  libbpf_get_error: { parameters: ["pointer"], result: "i64" },
  libbpf_num_possible_cpus: { parameters: [], result: "i32" },
  libbpf_major_version: { parameters: [], result: "u32" },
  libbpf_minor_version: { parameters: [], result: "u32" },
  bpf_object__open_mem: { parameters: ["buffer", "usize", "pointer"], result: "pointer" },
  bpf_object__load: { parameters: ["pointer"], result: "i32" },
  bpf_object__close: { parameters: ["pointer"], result: "void" },
  bpf_object__next_program: { parameters: ["pointer", "pointer"], result: "pointer" },
  bpf_object__next_map: { parameters: ["pointer", "pointer"], result: "pointer" },
  bpf_program__name: { parameters: ["pointer"], result: "pointer" },
  bpf_program__section_name: { parameters: ["pointer"], result: "pointer" },
  bpf_program__type: { parameters: ["pointer"], result: "u32" },
  bpf_program__fd: { parameters: ["pointer"], result: "i32" },
  bpf_program__set_log_buf: { parameters: ["pointer", "buffer", "usize"], result: "i32" },
  bpf_map__name: { parameters: ["pointer"], result: "pointer" },
  bpf_map__fd: { parameters: ["pointer"], result: "i32" },
  bpf_map__type: { parameters: ["pointer"], result: "u32" },
  bpf_map__key_size: { parameters: ["pointer"], result: "u32" },
  bpf_map__value_size: { parameters: ["pointer"], result: "u32" },
  bpf_map__max_entries: { parameters: ["pointer"], result: "u32" },
  bpf_xdp_attach: { parameters: ["i32", "i32", "u32", "pointer"], result: "i32" },
  bpf_xdp_detach: { parameters: ["i32", "u32", "pointer"], result: "i32" },
  bpf_xdp_query: { parameters: ["i32", "i32", "buffer"], result: "i32" },
  bpf_map_lookup_elem: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  bpf_map_update_elem: { parameters: ["i32", "buffer", "buffer", "u64"], result: "i32" },
  bpf_map_delete_elem: { parameters: ["i32", "buffer"], result: "i32" },
  bpf_map_get_next_key: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  bpf_prog_get_fd_by_id: { parameters: ["u32"], result: "i32" },
  bpf_map_get_fd_by_id: { parameters: ["u32"], result: "i32" },
  bpf_obj_get_info_by_fd: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

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

/** Map types whose values are per possible CPU. */
const PERCPU_MAP_TYPES = new Set([5, 6, 10]); // PERCPU_HASH, PERCPU_ARRAY, LRU_PERCPU_HASH

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

const LOG_BUF_SIZE = 1 << 20;
const MAX_LOG_LINES = 200;

let cache = new Map<string, Libbpf>();

/**
 * Opens libbpf once per path. Throws `LibbpfError` (op "dlopen") when the library is missing.
 *
 * @param path library path or soname; defaults to "libbpf.so.1"
 */
export function openLibbpf(path = "libbpf.so.1"): Libbpf {
  const hit = cache.get(path);
  if (hit) return hit;
  let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
  try {
    lib = Deno.dlopen(path, SYMBOLS);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new LibbpfError(`Cannot load libbpf from ${path}: ${detail}`, 2, { op: "dlopen" });
  }
  const api = bind(lib.symbols);
  cache.set(path, api);
  return api;
}

/** Forgets opened libraries (tests). */
export function resetLibbpfCache(): void {
  cache = new Map();
}

function bind(s: Deno.DynamicLibrary<typeof SYMBOLS>["symbols"]): Libbpf {
  const c = libc();
  const log: string[] = [];
  // libbpf prints through a (level, format, va_list) callback; format it with vsnprintf.
  const printer = new Deno.UnsafeCallback(
    { parameters: ["i32", "pointer", "pointer"], result: "i32" } as const,
    (level, fmt, args) => {
      if (level <= 1 && log.length < MAX_LOG_LINES) log.push(c.vformat(fmt, args).trimEnd());
      return 0;
    },
  );
  s.libbpf_set_print(printer.pointer);

  const strerror = (err: number): string => {
    const buf = new Uint8Array(256);
    s.libbpf_strerror(Math.abs(err), buf, BigInt(buf.length));
    const end = buf.indexOf(0);
    return new TextDecoder().decode(buf.subarray(0, end < 0 ? buf.length : end));
  };
  const fail = (op: string, what: string, rc: number, verifierLog?: string): never => {
    throw new LibbpfError(`${what}: ${strerror(rc)}`, Math.abs(rc), { op, verifierLog });
  };
  const str = (p: Deno.PointerValue): string =>
    p === null ? "" : Deno.UnsafePointerView.getCString(p);
  const possibleCpus = s.libbpf_num_possible_cpus();
  const valueBufferSize = (m: MapHandle): number =>
    m.percpu ? Math.ceil(m.valueSize / 8) * 8 * possibleCpus : m.valueSize;
  const mapInfo = (p: Deno.PointerObject): MapInfo => ({
    name: str(s.bpf_map__name(p)),
    type: s.bpf_map__type(p),
    keySize: s.bpf_map__key_size(p),
    valueSize: s.bpf_map__value_size(p),
    maxEntries: s.bpf_map__max_entries(p),
  });

  const openObject = (bytes: Uint8Array, name: string): BpfObject => {
    // libbpf keeps a pointer to the buffer while the object is open: hold it here.
    const held = new Uint8Array(bytes);
    const obj = s.bpf_object__open_mem(held, BigInt(held.length), null);
    if (obj === null) {
      const rc = Number(s.libbpf_get_error(null));
      fail("bpf_object__open_mem", `Cannot open BPF object ${name}`, rc || -22);
    }
    const objPtr = obj as Deno.PointerObject;
    let closed = false;
    const logBufs: Uint8Array<ArrayBuffer>[] = [];
    const eachProgram = (): Deno.PointerObject[] => {
      const out: Deno.PointerObject[] = [];
      for (let p = s.bpf_object__next_program(objPtr, null); p !== null && out.length < 256;) {
        out.push(p);
        p = s.bpf_object__next_program(objPtr, p);
      }
      return out;
    };
    const eachMap = (): Deno.PointerObject[] => {
      const out: Deno.PointerObject[] = [];
      for (let p = s.bpf_object__next_map(objPtr, null); p !== null && out.length < 256;) {
        out.push(p);
        p = s.bpf_object__next_map(objPtr, p);
      }
      return out;
    };
    const live = () => {
      if (closed) throw new LibbpfError(`BPF object ${name} is closed`, 9, { op: "use" });
    };
    return {
      programs: () => {
        live();
        return eachProgram().map((p) => ({
          name: str(s.bpf_program__name(p)),
          section: str(s.bpf_program__section_name(p)),
          type: s.bpf_program__type(p),
        }));
      },
      maps: () => {
        live();
        return eachMap().map(mapInfo);
      },
      load: () => {
        live();
        const progs = eachProgram();
        for (const p of progs) {
          const buf = new Uint8Array(LOG_BUF_SIZE);
          logBufs.push(buf);
          s.bpf_program__set_log_buf(p, buf, BigInt(buf.length));
        }
        const rc = s.bpf_object__load(objPtr);
        if (rc !== 0) {
          const logs = logBufs.map((b) => {
            const end = b.indexOf(0);
            return new TextDecoder().decode(b.subarray(0, end < 0 ? b.length : end));
          }).filter((t) => t.length > 0).join("\n");
          fail("bpf_object__load", `Cannot load BPF object ${name}`, rc, logs || undefined);
        }
      },
      programFd: (prog) => {
        live();
        for (const p of eachProgram()) {
          if (str(s.bpf_program__name(p)) === prog) {
            const fd = s.bpf_program__fd(p);
            if (fd < 0) fail("bpf_program__fd", `Program ${prog} in ${name} is not loaded`, fd);
            return fd;
          }
        }
        throw new LibbpfError(`No program named ${prog} in ${name}`, 2, { op: "find_program" });
      },
      map: (mapName) => {
        live();
        for (const p of eachMap()) {
          if (str(s.bpf_map__name(p)) === mapName) {
            const info = mapInfo(p);
            const fd = s.bpf_map__fd(p);
            if (fd < 0) fail("bpf_map__fd", `Map ${mapName} in ${name} is not loaded`, fd);
            return { ...info, fd, percpu: PERCPU_MAP_TYPES.has(info.type) };
          }
        }
        throw new LibbpfError(`No map named ${mapName} in ${name}`, 2, { op: "find_map" });
      },
      close: () => {
        if (closed) return;
        closed = true;
        s.bpf_object__close(objPtr);
        logBufs.length = 0;
      },
    };
  };

  const modeFlag = (mode: XdpMode): number =>
    mode === "native" ? XDP_FLAGS.DRV_MODE : XDP_FLAGS.SKB_MODE;

  const infoByFd = (fd: number, size: number): DataView => {
    const buf = new Uint8Array(size);
    const len = new Uint32Array([size]);
    const rc = s.bpf_obj_get_info_by_fd(fd, buf, new Uint8Array(len.buffer));
    if (rc !== 0) fail("bpf_obj_get_info_by_fd", `Cannot read info of fd ${fd}`, rc);
    return new DataView(buf.buffer);
  };
  const name16 = (v: DataView, off: number): string => {
    const bytes = new Uint8Array(v.buffer, off, 16);
    const end = bytes.indexOf(0);
    return new TextDecoder().decode(bytes.subarray(0, end < 0 ? 16 : end));
  };

  return {
    version: `${s.libbpf_major_version()}.${s.libbpf_minor_version()}`,
    possibleCpus,
    openObject,
    xdpAttach: (ifindex, progFd, mode, options = {}) => {
      const flags = modeFlag(mode) | (options.replace ? 0 : XDP_FLAGS.UPDATE_IF_NOEXIST);
      const rc = s.bpf_xdp_attach(ifindex, progFd, flags, null);
      if (rc !== 0) {
        fail("bpf_xdp_attach", `Cannot attach XDP program to ifindex ${ifindex} (${mode})`, rc);
      }
    },
    xdpDetach: (ifindex, mode) => {
      const rc = s.bpf_xdp_detach(ifindex, modeFlag(mode), null);
      if (rc !== 0) fail("bpf_xdp_detach", `Cannot detach XDP program from ifindex ${ifindex}`, rc);
    },
    xdpQuery: (ifindex) => {
      // struct bpf_xdp_query_opts: sz, prog_id@8, drv@12, hw@16, skb@20, attach_mode@24
      const buf = new Uint8Array(32);
      const v = new DataView(buf.buffer);
      v.setBigUint64(0, 32n, true);
      const rc = s.bpf_xdp_query(ifindex, 0, buf);
      if (rc !== 0) fail("bpf_xdp_query", `Cannot query XDP on ifindex ${ifindex}`, rc);
      return {
        progId: v.getUint32(8, true),
        drvProgId: v.getUint32(12, true),
        skbProgId: v.getUint32(20, true),
        mode: v.getUint8(24),
      };
    },
    programIdOfFd: (fd) => infoByFd(fd, 232).getUint32(4, true),
    programById: (id) => {
      const fd = s.bpf_prog_get_fd_by_id(id);
      if (fd === -2) return null; // ENOENT: no such program any more
      if (fd < 0) fail("bpf_prog_get_fd_by_id", `Cannot open program ${id}`, fd);
      try {
        // First call learns nr_map_ids; second fills them. struct bpf_prog_info is 232 bytes.
        const first = infoByFd(fd, 232);
        const nrMaps = Math.min(first.getUint32(52, true), 64);
        const ids = new Uint32Array(nrMaps);
        const buf = new Uint8Array(232);
        const v = new DataView(buf.buffer);
        v.setUint32(52, nrMaps, true);
        v.setBigUint64(56, BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(ids))), true);
        const len = new Uint32Array([232]);
        const rc = s.bpf_obj_get_info_by_fd(fd, buf, new Uint8Array(len.buffer));
        if (rc !== 0) fail("bpf_obj_get_info_by_fd", `Cannot read maps of program ${id}`, rc);
        return {
          id: v.getUint32(4, true),
          type: v.getUint32(0, true),
          name: name16(v, 64),
          mapIds: [...ids],
        };
      } finally {
        c.close(fd);
      }
    },
    mapById: (id) => {
      const fd = s.bpf_map_get_fd_by_id(id);
      if (fd < 0) fail("bpf_map_get_fd_by_id", `Cannot open map ${id}`, fd);
      try {
        const v = infoByFd(fd, 88);
        const type = v.getUint32(0, true);
        return {
          fd,
          type,
          keySize: v.getUint32(8, true),
          valueSize: v.getUint32(12, true),
          maxEntries: v.getUint32(16, true),
          name: name16(v, 24),
          percpu: PERCPU_MAP_TYPES.has(type),
        };
      } catch (err) {
        c.close(fd);
        throw err;
      }
    },
    lookup: (map, key) => {
      const value = new Uint8Array(valueBufferSize(map));
      const rc = s.bpf_map_lookup_elem(map.fd, new Uint8Array(key), value);
      if (rc === -2) return null;
      if (rc !== 0) fail("bpf_map_lookup_elem", `Cannot read map ${map.name}`, rc);
      return value;
    },
    update: (map, key, value) => {
      if (value.length !== valueBufferSize(map)) {
        throw new RangeError(
          `Value for map ${map.name} must be ${valueBufferSize(map)} bytes, got ${value.length}`,
        );
      }
      const rc = s.bpf_map_update_elem(map.fd, new Uint8Array(key), new Uint8Array(value), BPF_ANY);
      if (rc !== 0) fail("bpf_map_update_elem", `Cannot write map ${map.name}`, rc);
    },
    delete: (map, key) => {
      const rc = s.bpf_map_delete_elem(map.fd, new Uint8Array(key));
      if (rc === -2) return false;
      if (rc !== 0) fail("bpf_map_delete_elem", `Cannot delete from map ${map.name}`, rc);
      return true;
    },
    keys: (map) => {
      const out: Uint8Array[] = [];
      let prev: Uint8Array<ArrayBuffer> | null = null;
      // Bounded: a hash map never yields more than max_entries keys (+1 guards a racing insert).
      for (let i = 0; i <= map.maxEntries; i++) {
        const next = new Uint8Array(map.keySize);
        const rc = s.bpf_map_get_next_key(map.fd, prev, next);
        if (rc === -2) break;
        if (rc !== 0) fail("bpf_map_get_next_key", `Cannot iterate map ${map.name}`, rc);
        out.push(next);
        prev = next;
      }
      return out;
    },
    valueBufferSize,
    closeFd: (fd) => c.close(fd),
    strerror,
    takeLog: () => log.splice(0, log.length),
  };
}
