/**
 * Deno FFI bindings to `libbpf.so.1` (libbpf 1.x): open an object from memory, load it with the
 * verifier log captured on failure, find programs and maps, attach/detach XDP through netlink
 * (generic or native mode) and TC clsact ingress filters, and map lookup/update/delete/iterate
 * including per-CPU maps. Also
 * finds a loaded program's maps by id, so a later process can read counters of a program
 * another process attached.
 *
 * Standalone on purpose (imports nothing from core/): failures throw `LibbpfError`.
 *
 * @module
 */
import { libc } from "./libc.ts";
import { LIBBPF_SYMBOLS as SYMBOLS } from "./libbpf_symbols.ts";

export * from "./libbpf_types.ts";
import {
  BPF_ANY,
  type BpfObject,
  type Libbpf,
  LibbpfError,
  type MapHandle,
  type MapInfo,
  PERCPU_MAP_TYPES,
  tcHook,
  tcOpts,
  XDP_FLAGS,
  type XdpMode,
} from "./libbpf_types.ts";

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
    throw new LibbpfError(`Cannot load libbpf from ${path}: ${detail}`, 2, {
      op: "dlopen",
      detail,
    });
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
    const detail = strerror(rc);
    throw new LibbpfError(`${what}: ${detail}`, Math.abs(rc), { op, detail, verifierLog });
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

  const slowEntries = (map: MapHandle) =>
    api.keys(map).flatMap((key) => {
      const value = api.lookup(map, key);
      return value ? [{ key, value }] : [];
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

  const api: Libbpf = {
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
    tcAttach: (ifindex, progFd, where) => {
      const hook = tcHook(ifindex);
      const rc = s.bpf_tc_hook_create(hook);
      if (rc !== 0 && rc !== -17) {
        fail("bpf_tc_hook_create", `Cannot create clsact on ifindex ${ifindex}`, rc);
      }
      const opts = tcOpts(where, { progFd, replace: where.replace });
      const rc2 = s.bpf_tc_attach(hook, opts);
      if (rc2 !== 0) fail("bpf_tc_attach", `Cannot attach TC program to ifindex ${ifindex}`, rc2);
    },
    tcDetach: (ifindex, where) => {
      const rc = s.bpf_tc_detach(tcHook(ifindex), tcOpts(where, {}));
      if (rc !== 0) fail("bpf_tc_detach", `Cannot detach TC program from ifindex ${ifindex}`, rc);
    },
    tcQuery: (ifindex, where) => {
      const opts = tcOpts(where, {});
      const rc = s.bpf_tc_query(tcHook(ifindex), opts);
      // ENOENT: no such filter; EINVAL: no clsact qdisc on the interface.
      if (rc === -2 || rc === -22) return 0;
      if (rc !== 0) fail("bpf_tc_query", `Cannot query TC on ifindex ${ifindex}`, rc);
      return new DataView(opts.buffer).getUint32(16, true);
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
    entries: (map) => {
      const vsize = valueBufferSize(map);
      const cap = map.maxEntries;
      const keys = new Uint8Array(map.keySize * cap);
      const values = new Uint8Array(vsize * cap);
      const tokenSize = Math.max(map.keySize, 8);
      let inBatch: Uint8Array<ArrayBuffer> | null = null;
      let filled = 0;
      // Bounded: each round returns at least one entry or ends the walk.
      for (let round = 0; round <= cap && filled < cap; round++) {
        const outBatch = new Uint8Array(tokenSize);
        const count = new Uint32Array([cap - filled]);
        const rc = s.bpf_map_lookup_batch(
          map.fd,
          inBatch,
          outBatch,
          keys.subarray(filled * map.keySize),
          values.subarray(filled * vsize),
          new Uint8Array(count.buffer),
          null,
        );
        if (rc !== 0 && rc !== -2) {
          // EINVAL/EOPNOTSUPP/ENOTSUPP: no batch support; ENOSPC: a bucket outgrew the buffer.
          if (rc === -22 || rc === -95 || rc === -524 || rc === -28) return slowEntries(map);
          fail("bpf_map_lookup_batch", `Cannot read map ${map.name}`, rc);
        }
        filled += count[0];
        if (rc === -2 || count[0] === 0) break;
        inBatch = outBatch;
      }
      // Views into this call's buffers (no copies): they are not reused after returning.
      return Array.from({ length: filled }, (_, i) => ({
        key: keys.subarray(i * map.keySize, (i + 1) * map.keySize),
        value: values.subarray(i * vsize, (i + 1) * vsize),
      }));
    },
    valueBufferSize,
    closeFd: (fd) => c.close(fd),
    strerror,
    takeLog: () => log.splice(0, log.length),
  };
  return api;
}
