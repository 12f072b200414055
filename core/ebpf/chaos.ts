/**
 * Controls the chaos injector: drop a share of received packets on an interface, optionally
 * only one EtherType or IP protocol. If the telemetry program is attached, its chaos map is
 * configured (XDP or TC variant; drops then show in telemetry); otherwise the standalone x0_chaos program is
 * loaded and attached by netlink, so it stays after the calling process (the CLI) exits.
 *
 * @module
 */
import type { Libbpf, XdpMode } from "../../ffi/libbpf.ts";
import { ValidationError, X0Error } from "../errors.ts";
import { type ChaosConfig, encodeChaosConfig, keyZero } from "./layout.ts";
import { attachXdp, detachXdp, findAttached, loadObject, objectPath } from "./program_loader.ts";
import { findTelemetry, openProgramMaps } from "./telemetry_reader.ts";

/** What to inject. */
export interface ChaosRequest {
  iface: string;
  netns?: string;
  /** Percent of matching packets to drop, 0–100 (fractions allowed, resolution 0.0001). */
  percent: number;
  /** Only drop this EtherType (e.g. 0x0800). */
  ethertype?: number;
  /** Only drop this IP protocol (e.g. 17 for UDP). */
  ipProto?: number;
  /** XDP mode when the injector has to be attached (default "skb"). */
  mode?: XdpMode;
}

/** What `setChaos` / `clearChaos` did. */
export interface ChaosResult {
  iface: string;
  netns: string | null;
  /** The program now carrying the configuration (null: nothing attached). */
  program: string | null;
  progId: number | null;
  action: "attached" | "configured" | "detached" | "reset" | "none";
  config: ChaosConfig;
}

/** Converts a percentage to parts per million; throws ValidationError outside 0–100. */
export function percentToPpm(percent: number): number {
  if (typeof percent !== "number" || !Number.isFinite(percent) || percent < 0 || percent > 100) {
    throw new ValidationError(`Invalid drop percent: ${percent} (expected 0 to 100)`);
  }
  return Math.round(percent * 10_000);
}

/** Validates a request into the map's configuration. */
export function chaosConfigFor(req: ChaosRequest): ChaosConfig {
  const cfg: ChaosConfig = { dropPpm: percentToPpm(req.percent) };
  if (req.ethertype !== undefined) {
    if (!Number.isInteger(req.ethertype) || req.ethertype < 0x0600 || req.ethertype > 0xffff) {
      throw new ValidationError(`Invalid EtherType: ${req.ethertype} (expected 0x0600 to 0xffff)`);
    }
    cfg.ethertype = req.ethertype;
  }
  if (req.ipProto !== undefined) {
    if (!Number.isInteger(req.ipProto) || req.ipProto < 0 || req.ipProto > 255) {
      throw new ValidationError(`Invalid IP protocol: ${req.ipProto} (expected 0 to 255)`);
    }
    cfg.ipProto = req.ipProto;
  }
  return cfg;
}

function writeConfigById(libbpf: Libbpf, progId: number, cfg: ChaosConfig): void {
  const { maps, close } = openProgramMaps(libbpf, progId);
  try {
    const map = maps.get("chaos_cfg");
    if (!map) throw new X0Error("internal", `Program ${progId} has no chaos_cfg map`);
    libbpf.update(map, keyZero(), encodeChaosConfig(cfg));
  } finally {
    close();
  }
}

/** Starts (or reconfigures) packet dropping on an interface. Bad input changes nothing. */
export function setChaos(libbpf: Libbpf, req: ChaosRequest): ChaosResult {
  const config = chaosConfigFor(req);
  const base = { iface: req.iface, netns: req.netns ?? null, config };
  const xdp = findAttached(libbpf, req.iface, req.netns);
  const tc = xdp?.name === "x0_telemetry" || xdp?.name === "x0_chaos"
    ? null
    : findTelemetry(libbpf, req.iface, req.netns);
  const carrier = xdp?.name === "x0_telemetry" || xdp?.name === "x0_chaos" ? xdp : tc;
  if (carrier) {
    writeConfigById(libbpf, carrier.progId, config);
    return { ...base, program: carrier.name, progId: carrier.progId, action: "configured" };
  }
  const path = objectPath("x0_chaos");
  const obj = loadObject(libbpf, Deno.readFileSync(path), { name: "xdp_chaos.o" });
  try {
    // Configured before attaching: the first packet already sees the requested rate.
    libbpf.update(obj.map("chaos_cfg"), keyZero(), encodeChaosConfig(config));
    const progId = attachXdp(libbpf, obj, "x0_chaos", {
      iface: req.iface,
      netns: req.netns,
      mode: req.mode ?? "skb",
    });
    return { ...base, program: "x0_chaos", progId, action: "attached" };
  } finally {
    obj.close();
  }
}

/**
 * Stops packet dropping: detaches x0_chaos, and zeroes the chaos map of the telemetry program
 * (XDP or TC) if one is attached.
 */
export function clearChaos(libbpf: Libbpf, where: { iface: string; netns?: string }): ChaosResult {
  const base = { iface: where.iface, netns: where.netns ?? null, config: { dropPpm: 0 } };
  const xdp = findAttached(libbpf, where.iface, where.netns);
  let action: ChaosResult["action"] = "none";
  if (xdp?.name === "x0_chaos") {
    detachXdp(libbpf, where.iface, { netns: where.netns, progId: xdp.progId });
    action = "detached";
  }
  const telemetry = findTelemetry(libbpf, where.iface, where.netns);
  if (telemetry) {
    writeConfigById(libbpf, telemetry.progId, { dropPpm: 0 });
    if (action === "none") action = "reset";
  }
  return { ...base, program: telemetry?.name ?? null, progId: telemetry?.progId ?? null, action };
}
