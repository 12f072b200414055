/**
 * Loads x0tta6bl4's XDP objects and attaches/detaches them: static ELF validation, libbpf open,
 * map/program policy checks, load (verifier log kept on failure), netlink attach inside the
 * right network namespace, and the crash record so the next start cleans up what a dead agent
 * left attached. Nothing is attached unless every check passed.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import {
  BPF_PROG_TYPE_XDP,
  type BpfObject,
  type Libbpf,
  LibbpfError,
  type MapInfo,
  type ProgramInfo,
  type XdpMode,
} from "../../ffi/libbpf.ts";
import { ForbiddenError, UnavailableError, ValidationError, X0Error } from "../errors.ts";
import { addAttachEntry, removeAttachEntry } from "./attach_record.ts";
import { validateBpfElf } from "./elf_validate.ts";
import { checkInterfaceName, interfaceIndex, withNetns } from "./netns.ts";
import { rootPath } from "../paths.ts";

const log = getLogger(["x0", "ebpf"]);

/** How a program is attached: XDP generic (skb), XDP native, or TC clsact ingress. */
export type AttachMode = XdpMode | "tc";

/** Names of the programs this project ships; anything else on an interface is foreign. */
export const OWN_PROGRAMS = ["x0_telemetry", "x0_telemetry_tc", "x0_chaos", "x0_pass"] as const;

/** The objects this project ships, by program name. */
export const OBJECT_FILES: Record<(typeof OWN_PROGRAMS)[number], string> = {
  x0_telemetry: "xdp_telemetry.o",
  x0_telemetry_tc: "tc_telemetry.o",
  x0_chaos: "xdp_chaos.o",
  x0_pass: "xdp_pass.o",
};

/** Limits on maps declared by an object (checked after open, before load). */
export const MAP_LIMITS = {
  maxMaps: 16,
  maxEntries: 65_536,
  maxKeySize: 64,
  maxValueSize: 4_096,
  /** Estimated kernel memory of all maps (entries × (key + value) × CPUs for per-CPU maps). */
  maxTotalBytes: 64 << 20,
} as const;

/** Program types the agent loads: XDP and SCHED_CLS (TC). */
const ALLOWED_PROG_TYPES = new Set([BPF_PROG_TYPE_XDP, 3]);

/** Map types the agent loads (array, hash, per-CPU and LRU variants). */
const ALLOWED_MAP_TYPES = new Set([1, 2, 5, 6, 9, 10]);
const PERCPU_MAP_TYPES = new Set([5, 6, 10]);

/** Path of a shipped object inside the repository's bpf/ folder. */
export function objectPath(program: (typeof OWN_PROGRAMS)[number]): string {
  return rootPath(`bpf/${OBJECT_FILES[program]}`);
}

/**
 * Checks an opened object's programs (XDP only) and maps (types and sizes within MAP_LIMITS);
 * throws ValidationError (details.reason) otherwise.
 */
export function checkObjectPolicy(programs: ProgramInfo[], maps: MapInfo[], cpus: number): void {
  for (const p of programs) {
    if (!ALLOWED_PROG_TYPES.has(p.type)) {
      throw new ValidationError(`Program ${p.name} is not an XDP or TC program: type ${p.type}`, {
        details: { reason: "program_type_not_allowed" },
      });
    }
  }
  if (maps.length > MAP_LIMITS.maxMaps) {
    throw new ValidationError(`Too many maps: ${maps.length} (limit ${MAP_LIMITS.maxMaps})`, {
      details: { reason: "map_limit" },
    });
  }
  let total = 0;
  for (const m of maps) {
    const why = !ALLOWED_MAP_TYPES.has(m.type)
      ? `type ${m.type} is not allowed`
      : m.maxEntries > MAP_LIMITS.maxEntries
      ? `${m.maxEntries} entries exceeds ${MAP_LIMITS.maxEntries}`
      : m.keySize > MAP_LIMITS.maxKeySize
      ? `key size ${m.keySize} exceeds ${MAP_LIMITS.maxKeySize}`
      : m.valueSize > MAP_LIMITS.maxValueSize
      ? `value size ${m.valueSize} exceeds ${MAP_LIMITS.maxValueSize}`
      : null;
    if (why) {
      throw new ValidationError(`Map ${m.name} rejected: ${why}`, {
        details: { reason: "map_limit" },
      });
    }
    total += m.maxEntries * (m.keySize + m.valueSize) * (PERCPU_MAP_TYPES.has(m.type) ? cpus : 1);
  }
  if (total > MAP_LIMITS.maxTotalBytes) {
    throw new ValidationError(
      `Maps need ${total} bytes, over the limit of ${MAP_LIMITS.maxTotalBytes}`,
      {
        details: { reason: "map_limit" },
      },
    );
  }
}

/** Maps a libbpf failure to the project's error classes, keeping the message and errno. */
export function fromLibbpfError(err: unknown, context: string): Error {
  if (!(err instanceof LibbpfError)) return err instanceof Error ? err : new Error(String(err));
  const details = { errno: err.errno, op: err.op, verifierLog: err.verifierLog };
  const tail = err.verifierLog
    ? `; verifier: ${err.verifierLog.trim().split("\n").slice(-2).join(" | ")}`
    : "";
  if (err.verifierLog && err.op === "bpf_object__load") {
    return new ValidationError(`${context}: rejected by the verifier${tail}`, {
      cause: err,
      details: { ...details, reason: "verifier_rejected" },
    });
  }
  if (err.errno === 1 || err.errno === 13) {
    return new ForbiddenError(`${context}: ${err.detail} (need CAP_NET_ADMIN and CAP_BPF)`, {
      cause: err,
      details,
    });
  }
  if (err.errno === 95 || err.errno === 22 && err.op === "bpf_xdp_attach") {
    return new X0Error("unsupported", `${context}: ${err.detail}`, { cause: err, details });
  }
  if (err.errno === 17 || err.errno === 16) {
    return new X0Error("conflict", `${context}: ${err.detail}`, { cause: err, details });
  }
  return new UnavailableError(`${context}: ${err.detail}${tail}`, { cause: err, details });
}

/**
 * Validates, opens and loads an object into the kernel (not attached). The caller closes it.
 *
 * @param libbpf bound libbpf
 * @param bytes the object file's bytes
 * @param options name for messages, and a hook to write maps (e.g. chaos config) after load
 */
export function loadObject(
  libbpf: Libbpf,
  bytes: Uint8Array,
  options: { name: string },
): BpfObject {
  validateBpfElf(bytes, { name: options.name });
  let obj: BpfObject;
  try {
    obj = libbpf.openObject(bytes, options.name);
  } catch (err) {
    throw new ValidationError(
      `Cannot open BPF object ${options.name}: ${
        err instanceof LibbpfError ? err.detail : (err as Error).message
      }`,
      {
        cause: err,
        details: { reason: "open_failed" },
      },
    );
  }
  try {
    checkObjectPolicy(obj.programs(), obj.maps(), libbpf.possibleCpus);
    obj.load();
    return obj;
  } catch (err) {
    obj.close();
    throw err instanceof X0Error
      ? err
      : fromLibbpfError(err, `Cannot load BPF object ${options.name}`);
  }
}

/** An XDP program currently attached to an interface. */
export interface AttachedProgram {
  ifindex: number;
  progId: number;
  name: string;
  mode: AttachMode;
}

/** The XDP program attached to `iface` (in `netns`), or null. */
export function findAttached(
  libbpf: Libbpf,
  iface: string,
  netns?: string,
): AttachedProgram | null {
  const ifindex = interfaceIndex(iface, netns);
  const q = withNetns(netns, () => libbpf.xdpQuery(ifindex));
  if (q.progId === 0) return null;
  const info = libbpf.programById(q.progId);
  return {
    ifindex,
    progId: q.progId,
    name: info?.name ?? "",
    mode: q.skbProgId === q.progId ? "skb" : "native",
  };
}

/** Options of `attachXdp`. */
export interface AttachOptions {
  /** Interface to attach to. */
  iface: string;
  /** Network namespace of the interface (undefined: the current one). */
  netns?: string;
  /** Generic (skb) or native (driver) XDP. */
  mode: XdpMode;
  /** When set, the attachment is recorded there for crash cleanup. */
  stateDir?: string;
}

/**
 * Attaches a loaded program to an interface through netlink (it stays attached after this
 * process exits). Replaces only an x0tta6bl4 program; refuses a foreign one.
 *
 * @returns the kernel program id
 */
export function attachXdp(
  libbpf: Libbpf,
  obj: BpfObject,
  program: string,
  options: AttachOptions,
): number {
  const { iface, netns, mode } = options;
  checkInterfaceName(iface);
  const current = findAttached(libbpf, iface, netns);
  if (current && !(OWN_PROGRAMS as readonly string[]).includes(current.name)) {
    throw new X0Error(
      "conflict",
      `Interface ${iface} already runs XDP program ${
        current.name || "?"
      } (id ${current.progId}) not managed by x0tta6bl4`,
    );
  }
  const fd = obj.programFd(program);
  const progId = libbpf.programIdOfFd(fd);
  const ifindex = current?.ifindex ?? interfaceIndex(iface, netns);
  if (options.stateDir) {
    // Recorded before the attach: a crash right after attaching still leaves a trace to clean.
    addAttachEntry(options.stateDir, {
      netns: netns ?? null,
      iface,
      ifindex,
      progId,
      progName: program,
      mode,
      pid: Deno.pid,
      attachedAt: new Date().toISOString(),
    });
  }
  try {
    withNetns(netns, () => {
      if (current && current.mode !== mode) libbpf.xdpDetach(ifindex, current.mode as XdpMode);
      libbpf.xdpAttach(ifindex, fd, mode, { replace: current !== null && current.mode === mode });
    });
  } catch (err) {
    if (options.stateDir) removeAttachEntry(options.stateDir, netns ?? null, iface);
    throw fromLibbpfError(err, `Cannot attach XDP program ${program} to ${iface}`);
  }
  log.info("Attached XDP program {program} (id {progId}) to {iface} in {mode} mode", {
    program,
    progId,
    iface,
    mode,
    netns: netns ?? null,
  });
  return progId;
}

/**
 * Detaches an x0tta6bl4 XDP program from an interface. With `progId`, only that exact program
 * is detached. Returns the detached program, or null when there was nothing of ours.
 */
export function detachXdp(
  libbpf: Libbpf,
  iface: string,
  options: { netns?: string; progId?: number; stateDir?: string } = {},
): AttachedProgram | null {
  return detachOwnProgram(iface, options, {
    kind: "XDP",
    find: () => findAttached(libbpf, iface, options.netns),
    detach: (p) => libbpf.xdpDetach(p.ifindex, p.mode as XdpMode),
  });
}

/**
 * Detaches the program a hook reports on `iface` when it is ours (program `progId` when given,
 * else any x0tta6bl4 program) and drops its crash record; shared by the XDP and TC loaders.
 * Returns the detached program, or null when there was nothing of ours.
 *
 * @param iface interface name
 * @param options network namespace, exact program id, crash-record directory
 * @param hook how to find and detach the program on this hook (XDP or TC)
 */
export function detachOwnProgram(
  iface: string,
  options: { netns?: string; progId?: number; stateDir?: string },
  hook: {
    kind: string;
    find: () => AttachedProgram | null;
    detach: (current: AttachedProgram) => void;
  },
): AttachedProgram | null {
  const current = hook.find();
  const ours = current !== null &&
    (options.progId !== undefined
      ? current.progId === options.progId
      : (OWN_PROGRAMS as readonly string[]).includes(current.name));
  if (current && ours) {
    try {
      withNetns(options.netns, () => hook.detach(current));
    } catch (err) {
      throw fromLibbpfError(err, `Cannot detach ${hook.kind} program from ${iface}`);
    }
    log.info("Detached {kind} program {name} (id {progId}) from {iface}", {
      ...current,
      kind: hook.kind,
      iface,
    });
  }
  if (options.stateDir) {
    removeAttachEntry(options.stateDir, options.netns ?? null, iface, options.progId);
  }
  return ours ? current : null;
}
