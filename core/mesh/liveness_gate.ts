/**
 * What the native agent sees of the liveness helper (fast_liveness.ts): whether it vetoes a
 * neighbour (it said `down`), and a once-a-second check that un-vetoes neighbours the helper
 * cannot see although the probes can (a neighbour without mesh.fast_liveness, or with its
 * hellos filtered), so a mixed deployment degrades to probe-speed detection instead of losing
 * the link for ever.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import type { Config } from "../config/schema.ts";
import { ConfigError } from "../errors.ts";
import { assertLivenessBinary, type FastLiveness, startFastLiveness } from "./fast_liveness.ts";
import type { MeshInterface } from "./interfaces.ts";
import { isUsable, type Neighbour } from "./neighbour.ts";
import type { ProbeAuth } from "./prober.ts";

const log = getLogger(["x0", "mesh"]);

/** Seconds a neighbour may be up by probes but not by the helper before it is un-vetoed. */
export const HELPER_SILENT_S = 5;

/** The helper's say on neighbours (a gate that never vetoes when fast liveness is off). */
export interface LivenessGate {
  /** Whether the helper declared the neighbour on this interface down. */
  vetoed(iface: MeshInterface): boolean;
  /**
   * Call once a second with the prober's neighbours; returns the interfaces whose helper verdict
   * was reset (the caller re-evaluates them).
   */
  tick(neighbours: Array<{ iface: MeshInterface; neighbour: Neighbour | null }>): MeshInterface[];
  stop(): Promise<void>;
}

/** The gate of an agent without fast liveness. */
export const openGate: LivenessGate = {
  vetoed: () => false,
  tick: () => [],
  stop: () => Promise.resolve(),
};

/** The helper's UDP port: mesh.fast_liveness.port, else probe_port + 2. */
function livenessPort(mesh: Config["mesh"]): number {
  return mesh.fast_liveness.port ?? mesh.probe_port + 2;
}

/**
 * Checks mesh.fast_liveness before anything starts: its port, and that the binary exists.
 *
 * @param mesh the mesh configuration
 * @param binary the helper binary (tests); default native/bin/x0-liveness
 * @throws ConfigError naming the key and what to do
 */
export async function checkLivenessConfig(mesh: Config["mesh"], binary?: string): Promise<void> {
  if (!mesh.fast_liveness.enabled) return;
  const port = livenessPort(mesh);
  if (port === mesh.probe_port || port === mesh.control_port || port > 65535) {
    throw new ConfigError(
      `Invalid mesh.fast_liveness.port: ${port} (must differ from probe_port and control_port)`,
    );
  }
  await assertLivenessBinary(binary);
}

/**
 * Starts the helper on the mesh interfaces (or returns {@linkcode openGate} when disabled).
 *
 * @param interfaces the mesh interfaces
 * @param options mesh configuration, probe authentication, and the callback for a changed verdict
 */
export async function startLivenessGate(
  interfaces: MeshInterface[],
  options: {
    mesh: Config["mesh"];
    probeAuth?: ProbeAuth;
    binary?: string;
    onChange(iface: MeshInterface): void;
  },
): Promise<LivenessGate> {
  const cfg = options.mesh.fast_liveness;
  if (!cfg.enabled) return openGate;
  const fast: FastLiveness = await startFastLiveness(interfaces, {
    port: livenessPort(options.mesh),
    intervalMs: cfg.interval_ms,
    deadMs: cfg.dead_ms,
    upIntervals: cfg.up_intervals,
    realtime: cfg.realtime,
    flushProtocol: options.mesh.install_routes ? options.mesh.route_protocol : undefined,
    auth: options.probeAuth,
    binary: options.binary,
    onChange(peer) {
      const iface = interfaces.find((i) => i.peerAddress === peer);
      if (iface) options.onChange(iface);
    },
  });
  const silentFor = new Map<string, number>();
  return {
    vetoed: (iface) => fast.verdict(iface.peerAddress) === "down",
    tick(neighbours) {
      const reset: MeshInterface[] = [];
      for (const { iface, neighbour: n } of neighbours) {
        const v = fast.verdict(iface.peerAddress);
        const silent = n !== null && isUsable(n) && v !== "up";
        const secs = silent ? (silentFor.get(iface.name) ?? 0) + 1 : 0;
        silentFor.set(iface.name, secs);
        if (secs !== HELPER_SILENT_S) continue;
        log.warning(
          "Neighbour {peer} on {iface} answers probes but not the liveness helper for {s} s " +
            "(does it run mesh.fast_liveness?): its failures are detected by probes only",
          { peer: n!.nodeId, iface: iface.name, s: secs },
        );
        if (v === "down") {
          fast.reset(iface.peerAddress);
          reset.push(iface);
        }
      }
      return reset;
    },
    stop: () => fast.stop(),
  };
}
