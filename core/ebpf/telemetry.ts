/**
 * The agent's entry point to eBPF telemetry: attach the XDP telemetry program to the given
 * interfaces (after cleaning up programs a crashed run left), expose their counters to the
 * monitor and to /metrics, and detach on stop. When libbpf, privileges or kernel support are
 * missing it logs one line and serves /proc/net/dev counters instead.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { type BpfObject, type Libbpf, openLibbpf } from "../../ffi/libbpf.ts";
import { errorMessage, ValidationError, X0Error } from "../errors.ts";
import { chooseAttachMode, type TelemetryMode } from "./attach_mode.ts";
import { registerCounterSource } from "./metrics.ts";
import { interfaceIndex } from "./netns.ts";
import { cleanupStale } from "./crash_cleanup.ts";
import { type AttachMode, attachXdp, detachXdp, loadObject, objectPath } from "./program_loader.ts";
import { attachTc, detachTc } from "./tc_loader.ts";
import { type InterfaceCounters, procfsCounters, readTelemetryMaps } from "./telemetry_reader.ts";

const log = getLogger(["x0", "ebpf"]);

/** Options of `startEbpfTelemetry`. */
export interface EbpfTelemetryOptions {
  /** Interfaces to watch. */
  interfaces: string[];
  /**
   * "skb" (generic XDP, works everywhere; default), "native" (driver XDP: physical NICs with
   * XDP support), "tc" (clsact ingress: cheapest on veth and other virtual links), or "auto"
   * (per interface: tc on virtual drivers, native elsewhere, skb if native is unsupported).
   */
  mode?: TelemetryMode;
  /** Drivers "auto" treats as virtual (TC); default VIRTUAL_DRIVERS from attach_mode.ts. */
  virtualDrivers?: ReadonlySet<string>;
  /** Where the crash-cleanup record lives. */
  stateDir: string;
  /** Network namespace of the interfaces (default: the agent's own). */
  netns?: string;
  /** libbpf to load (default "libbpf.so.1"); tests point it elsewhere to force the fallback. */
  libraryPath?: string;
  /** Telemetry object to load (default bpf/xdp_telemetry.o). */
  objectPath?: string;
}

/** A running telemetry session. */
export interface EbpfTelemetry {
  /** Where counters come from. */
  mode: "ebpf" | "procfs";
  /** Why eBPF is not used (null in ebpf mode). */
  reason: string | null;
  /** Current counters per interface. */
  counters(): InterfaceCounters[];
  /** How each interface is hooked (empty in procfs mode). */
  attached: { iface: string; mode: AttachMode; progId: number }[];
  /** Detaches the programs (ebpf mode) and stops exporting; idempotent. */
  stop(): void;
}

interface Attached {
  iface: string;
  obj: BpfObject;
  progId: number;
  mode: AttachMode;
}

const active = new Set<EbpfTelemetry>();

/**
 * Reads /proc/net/dev counters for interfaces, synchronously (the fallback reader).
 *
 * @param interfaces interface names; missing interfaces are left out
 * @param options network namespace
 */
export function readFallbackCounters(
  interfaces: string[],
  options: { netns?: string } = {},
): InterfaceCounters[] {
  return interfaces.flatMap((iface) => procfsCounters(iface, options.netns) ?? []);
}

/**
 * Counters for the MAPE-K monitor: from running telemetry sessions for the interfaces they
 * cover, /proc/net/dev for the rest.
 */
export function interfaceCounters(interfaces: string[]): InterfaceCounters[] {
  const fromEbpf = new Map<string, InterfaceCounters>();
  for (const t of active) for (const c of t.counters()) if (!c.netns) fromEbpf.set(c.iface, c);
  return interfaces.flatMap((iface) => fromEbpf.get(iface) ?? procfsCounters(iface) ?? []);
}

function fallback(opts: EbpfTelemetryOptions, reason: string): EbpfTelemetry {
  log.warn("eBPF telemetry unavailable ({reason}); falling back to /proc/net/dev counters", {
    reason,
  });
  let stopped = false;
  const t: EbpfTelemetry = {
    mode: "procfs",
    reason,
    attached: [],
    counters: () => stopped ? [] : readFallbackCounters(opts.interfaces, { netns: opts.netns }),
    stop: () => {
      stopped = true;
      active.delete(t);
    },
  };
  active.add(t);
  return t;
}

/**
 * Starts eBPF telemetry on `interfaces`. Throws only for bad input (no interfaces, unknown
 * interface); every eBPF failure degrades to /proc/net/dev counters with one log line.
 *
 * @example
 * const t = await startEbpfTelemetry({ interfaces: ["eth0"], mode: "skb", stateDir: "./data" });
 * console.log(t.counters());
 * t.stop();
 */
export async function startEbpfTelemetry(opts: EbpfTelemetryOptions): Promise<EbpfTelemetry> {
  if (opts.interfaces.length === 0 || new Set(opts.interfaces).size !== opts.interfaces.length) {
    throw new ValidationError("Interfaces must be a non-empty list of distinct names");
  }
  for (const iface of opts.interfaces) interfaceIndex(iface, opts.netns);
  const requested = opts.mode ?? "skb";
  let libbpf: Libbpf;
  try {
    libbpf = openLibbpf(opts.libraryPath);
  } catch (err) {
    return fallback(opts, errorMessage(err));
  }
  const objects = new Map<string, Uint8Array>();
  const objectBytes = async (program: TelemetryProgram): Promise<Uint8Array> => {
    const path = opts.objectPath ?? objectPath(program);
    let bytes = objects.get(path);
    if (!bytes) objects.set(path, bytes = await Deno.readFile(path));
    return bytes;
  };
  try {
    cleanupStale(libbpf, opts.stateDir);
  } catch (err) {
    return fallback(opts, errorMessage(err));
  }
  const attached: Attached[] = [];
  try {
    for (const iface of opts.interfaces) {
      const mode = requested === "auto"
        ? chooseAttachMode(iface, { netns: opts.netns, virtualDrivers: opts.virtualDrivers })
        : requested;
      try {
        attached.push(await attachOne(libbpf, iface, mode, objectBytes, opts));
      } catch (err) {
        // "auto" picked native XDP but the driver has none: generic XDP works everywhere.
        if (!(requested === "auto" && mode === "native" && isUnsupported(err))) throw err;
        attached.push(await attachOne(libbpf, iface, "skb", objectBytes, opts));
      }
    }
  } catch (err) {
    for (const a of attached) detachQuietly(libbpf, a, opts);
    return fallback(opts, errorMessage(err));
  }

  const maps = attached.map((a) => ({
    iface: a.iface,
    maps: {
      iface_stats: a.obj.map("iface_stats"),
      neigh_stats: a.obj.map("neigh_stats"),
      chaos_cfg: a.obj.map("chaos_cfg"),
    },
  }));
  let stopped = false;
  const counters = () =>
    stopped
      ? []
      : maps.map((m) => readTelemetryMaps(libbpf, m.maps, { iface: m.iface, netns: opts.netns }));
  const unregister = registerCounterSource(counters);
  const t: EbpfTelemetry = {
    mode: "ebpf",
    reason: null,
    counters,
    attached: attached.map(({ iface, mode, progId }) => ({ iface, mode, progId })),
    stop: () => {
      if (stopped) return;
      stopped = true;
      unregister();
      active.delete(t);
      for (const a of attached) detachQuietly(libbpf, a, opts);
    },
  };
  active.add(t);
  return t;
}

type TelemetryProgram = "x0_telemetry" | "x0_telemetry_tc";

function isUnsupported(err: unknown): boolean {
  return err instanceof X0Error && err.code === "unsupported";
}

/** Loads a fresh object (own maps, so own counters) and attaches it to one interface. */
async function attachOne(
  libbpf: Libbpf,
  iface: string,
  mode: AttachMode,
  objectBytes: (program: TelemetryProgram) => Promise<Uint8Array>,
  opts: EbpfTelemetryOptions,
): Promise<Attached> {
  const program: TelemetryProgram = mode === "tc" ? "x0_telemetry_tc" : "x0_telemetry";
  const obj = loadObject(libbpf, await objectBytes(program), { name: `${program}@${iface}` });
  try {
    const where = { iface, netns: opts.netns, stateDir: opts.stateDir };
    const progId = mode === "tc"
      ? attachTc(libbpf, obj, program, where)
      : attachXdp(libbpf, obj, program, { ...where, mode });
    return { iface, obj, progId, mode };
  } catch (err) {
    obj.close();
    throw err;
  }
}

function detachQuietly(libbpf: Libbpf, a: Attached, opts: EbpfTelemetryOptions): void {
  try {
    const where = { netns: opts.netns, progId: a.progId, stateDir: opts.stateDir };
    if (a.mode === "tc") detachTc(libbpf, a.iface, where);
    else detachXdp(libbpf, a.iface, where);
  } catch (err) {
    log.error("Cannot detach telemetry from {iface}: {error}", {
      iface: a.iface,
      error: errorMessage(err),
    });
  } finally {
    a.obj.close();
  }
}
