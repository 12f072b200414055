/**
 * The agent's mesh runtime for an external fabric (`mesh.backend` "yggdrasil" or "batman"):
 * a FabricView polled by the agent's scheduler every `mesh.fabric_poll_ms`, a non-critical
 * "fabric" health check, and link samples for the MAPE-K monitor.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import type { Config } from "../config/schema.ts";
import { errorMessage } from "../errors.ts";
import type { HealthCheck } from "../health/health.ts";
import type { Scheduler } from "../scheduler/scheduler.ts";
import { createFabricView, type FabricView } from "./fabric_view.ts";
import { openFabricSource } from "./fabric_source.ts";

const log = getLogger(["x0", "fabric"]);

/** What the external-fabric backend gives the agent (a MeshRuntime plus link samples). */
export interface FabricRuntime {
  view: FabricView;
  checks: HealthCheck[];
  stop(): Promise<void>;
}

/**
 * Starts polling the configured fabric. The first read happens before this returns, so the
 * API is populated at once; if it fails the agent still starts, degraded, with the reason
 * logged once and reported by the "fabric" health check.
 *
 * @param config agent configuration (mesh.backend, mesh.endpoint, mesh.meshif, mesh.fabric_poll_ms)
 * @param ctx the agent's node id and scheduler
 */
export async function startFabricRuntime(
  config: Config,
  ctx: { nodeId: string; scheduler: Scheduler },
): Promise<FabricRuntime> {
  const m = config.mesh;
  if (m.backend !== "yggdrasil" && m.backend !== "batman") {
    throw new TypeError(`Not an external fabric backend: ${m.backend}`);
  }
  const timeoutMs = Math.min(2000, m.fabric_poll_ms);
  const source = m.backend === "yggdrasil"
    ? openFabricSource({ backend: "yggdrasil", endpoint: m.endpoint, timeoutMs })
    : openFabricSource({ backend: "batman", meshif: m.meshif, timeoutMs });
  const view = createFabricView(() => source.read(), {
    backend: m.backend,
    nodeId: ctx.nodeId,
  });
  try {
    await view.poll();
    log.info("Reading the {backend} fabric at {target} every {interval} ms", {
      backend: m.backend,
      target: source.target,
      interval: m.fabric_poll_ms,
    });
  } catch (err) {
    log.warn("Mesh fabric {backend} degraded at startup: {error}", {
      backend: m.backend,
      error: errorMessage(err),
    });
  }
  ctx.scheduler.add({
    name: "fabric-poll",
    intervalMs: m.fabric_poll_ms,
    jitter: 0,
    // A failed read is recorded by the view (logged once, counted, health check); no
    // scheduler error line per poll
    run: () => view.poll().then(() => {}, () => {}),
  });
  return {
    view,
    checks: [{
      name: "fabric",
      critical: false,
      check: () => {
        const e = view.lastError();
        return e === null ? { ok: true } : { ok: false, reason: `${m.backend}: ${e}` };
      },
    }],
    stop: () => {
      source.close();
      return Promise.resolve();
    },
  };
}
