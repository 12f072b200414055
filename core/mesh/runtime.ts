/**
 * Chooses and starts the mesh backend the configuration asks for (the native link-state
 * agent, Yggdrasil, batman-adv) and hands the agent one MeshView. Each backend adds one branch
 * here; with nothing configured the node is standalone.
 *
 * @module
 */
import type { Config } from "../config/schema.ts";
import type { HealthCheck } from "../health/health.ts";
import type { Scheduler } from "../scheduler/scheduler.ts";
import { startNativeMesh } from "./native_agent.ts";
import { type MeshView, standaloneMeshView } from "./view.ts";
import { startFabricRuntime } from "../adapters/fabric_runtime.ts";
import type { AgentIdentity } from "../identity/agent_identity.ts";
import { mtlsControlTransport } from "../identity/mtls_control_transport.ts";

/** What a started mesh backend gives the agent. */
export interface MeshRuntime {
  view: MeshView;
  /** Health checks the backend contributes (e.g. "mesh", "fabric"). */
  checks: HealthCheck[];
  /** Stops the backend and removes what it installed (kernel routes, sockets). */
  stop(): Promise<void>;
}

/** What a backend may use from the agent. */
export interface MeshContext {
  nodeId: string;
  kv: Deno.Kv;
  scheduler: Scheduler;
  /** The node identity; when set (and identity.mesh_mtls) the control channel is mTLS. */
  identity?: AgentIdentity | null;
}

/**
 * Starts the configured mesh backend.
 *
 * @param config the agent configuration
 * @param ctx agent services the backend may use
 */
export function startMeshRuntime(config: Config, ctx: MeshContext): Promise<MeshRuntime> {
  // --- backends (one branch each) ---
  if (config.mesh.backend === "yggdrasil" || config.mesh.backend === "batman") {
    return startFabricRuntime(config, ctx);
  }
  if (config.mesh.backend === "native" && config.mesh.router_address) {
    const id = config.identity.mesh_mtls ? ctx.identity : null;
    const liveSession = new Map<string, unknown>();
    // Control sessions over mTLS, peers authorized by SPIFFE ID; each session's probe key is
    // kept per neighbour for the probe HMAC.
    const transport = id
      ? mtlsControlTransport({
        svidSource: id.svidSource,
        bundleSource: id.bundleSource,
        authorize: id.controlAuthorizer,
        onSession: (c) => {
          // Probe keys by the neighbour's link address: what the prober knows a peer by.
          const peer = c.remoteAddress;
          id.probeKeys.set(peer, c.probeKey);
          liveSession.set(peer, c.session);
          c.session.closed.then(() => {
            // A newer session with the same peer keeps its key.
            if (liveSession.get(peer) !== c.session) return;
            liveSession.delete(peer);
            id.probeKeys.delete(peer);
          });
        },
      })
      : undefined;
    return startNativeMesh(config, {
      nodeId: ctx.nodeId,
      transport,
      probeAuth: transport ? id?.probeKeys : undefined,
    }).then((native) => ({
      view: native.view,
      checks: [{
        name: "mesh",
        critical: false,
        check: () => {
          const s = native.view.status();
          return s.state === "isolated"
            ? { ok: false, reason: "no neighbour is ONLINE" }
            : { ok: true };
        },
      }],
      stop: native.stop,
    }));
  }
  // --- end backends ---
  return Promise.resolve({
    view: standaloneMeshView(ctx.nodeId, config.mesh.router_address),
    checks: [],
    stop: () => Promise.resolve(),
  });
}
