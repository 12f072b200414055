/**
 * The agent's lifecycle: open the store, resolve the node id, start the scheduler and the HTTP
 * API, and stop them all gracefully (in-flight requests finish, tasks stop, KV closes) within
 * the configured timeout.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Config } from "./config/schema.ts";
import { errorMessage } from "./errors.ts";
import { createHealthRegistry, type HealthRegistry, healthValue } from "./health/health.ts";
import { startMapek } from "./mapek/loop.ts";
import { startMeshRuntime } from "./mesh/runtime.ts";
import { type AgentIdentity, startAgentIdentity } from "./identity/agent_identity.ts";
import { startEbpfTelemetry } from "./ebpf/telemetry.ts";
import { knowledgeOptions } from "./knowledge/config.ts";
import { readDocuments } from "./knowledge/files.ts";
import { KnowledgeBase } from "./knowledge/knowledge_base.ts";
import { kbRecommender, recordIncident } from "./mapek/knowledge_hook.ts";
import type { MeshView } from "./mesh/view.ts";
import { createScheduler, type Scheduler } from "./scheduler/scheduler.ts";
import { readKernelFile } from "./host/kernel_files.ts";
import { openStore, resolveNodeId } from "./storage/kv.ts";
import { nodeHealthStatus, registerUptime } from "./telemetry/node_metrics.ts";
import { registerProcessMetrics } from "./telemetry/process_metrics.ts";
import { VERSION } from "./version.ts";
import { ROOT_URL } from "./paths.ts";

const log = getLogger(["x0", "agent"]);

/** What the HTTP layer is built from; supplied by the caller so core/ never imports routes/. */
export type AppFactory = (deps: AgentDeps) => OpenAPIHono;

/** The subsystems of a running agent, as handed to the app factory. */
export interface AgentDeps {
  config: Config;
  nodeId: string;
  version: string;
  startedAt: number;
  kv: Deno.Kv;
  health: HealthRegistry;
  scheduler: Scheduler;
  mesh: MeshView;
  /** The knowledge base of incidents and runbooks (core/knowledge). */
  kb: KnowledgeBase;
  /** The node's SPIFFE identity and API token verifier; null when identity.enabled is false. */
  identity: AgentIdentity | null;
}

/** A running agent. */
export interface Agent extends AgentDeps {
  /** Base URL of the HTTP API. */
  url: string;
  /** Resolves when the agent has stopped. */
  finished: Promise<void>;
  /** Stops gracefully; resolves when stopped or the shutdown timeout has passed. */
  stop(reason?: string): Promise<void>;
}

/**
 * Starts an agent with a validated configuration.
 *
 * @param config the configuration (see core/config)
 * @param options the HTTP app factory and an optional listen callback
 */
export async function startAgent(
  config: Config,
  options: { app: AppFactory; onListen?: (url: string) => void },
): Promise<Agent> {
  const startedAt = performance.now();
  // Where start-up time goes (ms per phase), logged with "listening": cold start of a whole mesh
  // is bounded by how fast every router gets through these.
  const phases: Record<string, number> = { load: Math.round(startedAt) };
  let phaseAt = startedAt;
  const phase = (name: string) => {
    const now = performance.now();
    phases[name] = Math.round(now - phaseAt);
    phaseAt = now;
  };
  const kv = await openStore(config.data_dir);
  const nodeId = await resolveNodeId(kv, config.node_id);
  const health = createHealthRegistry();
  const scheduler = createScheduler();
  phase("store");

  // --- identity (issue 7): the node's SVID from <data_dir>/identity (issuer, member joining with
  // X0_JOIN_TOKEN, or the Workload API) before the mesh, whose control channel it secures. ---
  let identity: AgentIdentity | null = null;
  if (config.identity.enabled) {
    try {
      identity = await startAgentIdentity(config, nodeId);
    } catch (err) {
      kv.close();
      throw err;
    }
    log.info("Identity {id}", { id: identity.svidSource.current().id.uri });
  } else {
    log.warning("Identity disabled: plain TCP between agents and an unauthenticated API");
  }
  phase("identity");
  // --- end identity ---

  // eBPF and the knowledge base start before the mesh: their synchronous start-up work would
  // otherwise stall the event loop while the first probes are in flight (slower cold start).
  const ebpfInterfaces = config.ebpf.interfaces.length
    ? config.ebpf.interfaces
    : config.mesh.interfaces;
  const ebpf = config.ebpf.enabled && ebpfInterfaces.length
    ? await startEbpfTelemetry({
      interfaces: ebpfInterfaces,
      mode: config.ebpf.mode,
      stateDir: config.data_dir,
    }).catch((err) => {
      log.warning("eBPF telemetry not started: {error}", { error: errorMessage(err) });
      return null;
    })
    : null;
  phase("ebpf");

  let kb: KnowledgeBase;
  let meshRuntime;
  try {
    kb = await openKnowledge(config);
    phase("knowledge");
  } catch (err) {
    await ebpf?.stop();
    await identity?.close();
    kv.close();
    throw err;
  }
  try {
    meshRuntime = await startMeshRuntime(config, { nodeId, kv, scheduler, identity });
    phase("mesh");
  } catch (err) {
    await kb.close();
    await ebpf?.stop();
    await identity?.close();
    kv.close();
    throw err;
  }
  const mesh = meshRuntime.view;
  for (const check of meshRuntime.checks) health.register(check);

  // --- MAPE-K self-healing loop (issue 5): supervised services start here; the loop runs as
  // the scheduler task "mapek" and stops its services when the scheduler stops. ---
  if (config.mapek.enabled) {
    await startMapek(config, {
      nodeId,
      kv,
      mesh,
      scheduler,
      recommend: kbRecommender(kb),
      onIncident: (incident) => void recordIncident(kb, incident),
    });
  }
  phase("mapek");
  // --- end MAPE-K ---

  registerProcessMetrics();
  registerUptime(startedAt);

  health.register({
    name: "storage",
    critical: true,
    check: async () => {
      await kv.get(["node", "id"]);
      return { ok: true };
    },
  });
  health.register({
    name: "interfaces",
    critical: false,
    check: () => checkInterfaces(config.mesh.interfaces),
  });

  scheduler.add({
    name: "health",
    intervalMs: 5000,
    runAtStart: true,
    run: async () => {
      const report = await health.evaluate();
      nodeHealthStatus.set(healthValue(report.status));
    },
  });

  const deps: AgentDeps = {
    config,
    nodeId,
    version: VERSION,
    startedAt,
    kv,
    health,
    scheduler,
    mesh,
    kb,
    identity,
  };
  const app = options.app(deps);

  /** Stops what runs besides the HTTP server and the scheduler, newest first; the store stays. */
  const stopParts = async () => {
    await meshRuntime.stop();
    await ebpf?.stop();
    await kb.close();
    await identity?.close();
  };

  let resolveListen: (url: string) => void;
  const listening = new Promise<string>((r) => resolveListen = r);
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    // --- identity: the same API for peer agents over mTLS (identity.mtls_api_port; off when null) ---
    const port = await identity?.serveMtlsApi((req, info) => app.fetch(req, info));
    if (port != null) log.info("Peer API over mTLS on {host}:{port}", { host: config.host, port });
    // --- end identity ---
    server = Deno.serve({
      hostname: config.host,
      port: config.port,
      onListen: ({ hostname, port }) => {
        const host = hostname.includes(":") ? `[${hostname}]` : hostname;
        resolveListen(`http://${host}:${port}`);
      },
    }, app.fetch);
  } catch (err) {
    await stopParts();
    kv.close();
    throw err;
  }
  const url = await listening;
  scheduler.start();
  phase("api");
  log.info("Agent {node_id} {version} listening on {url} after {ms} ms", {
    node_id: nodeId,
    version: VERSION,
    url,
    ms: Math.round(performance.now()),
    phases,
  });
  options.onListen?.(url);

  let stopping: Promise<void> | undefined;
  let resolveFinished: () => void;
  const finished = new Promise<void>((r) => resolveFinished = r);

  const stop = (reason = "stop requested") => {
    stopping ??= (async () => {
      log.info("Agent stopping: {reason}", { reason });
      const timeoutMs = config.shutdown_timeout_ms;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<"timeout">((r) =>
        timer = setTimeout(() => r("timeout"), timeoutMs)
      );
      const graceful = (async () => {
        // Stop accepting, let in-flight requests finish, then the tasks, then the store.
        await server.shutdown();
        await scheduler.stop(timeoutMs);
        await stopParts();
        return "done" as const;
      })().catch((err) => {
        log.error("Error during shutdown: {error}", { error: errorMessage(err) });
        return "done" as const;
      });
      const outcome = await Promise.race([graceful, deadline]);
      clearTimeout(timer);
      if (outcome === "timeout") {
        log.warning("Shutdown did not finish within {ms} ms; closing anyway", { ms: timeoutMs });
      }
      kv.close();
      log.info("Agent stopped");
      resolveFinished();
    })();
    return stopping;
  };

  return { ...deps, url, finished, stop };
}

/** Checks that every configured mesh interface exists (via /sys/class/net/<name>/ifindex). */
function checkInterfaces(names: string[]): { ok: boolean; reason?: string } {
  const missing = names.filter((name) => {
    try {
      readKernelFile(`/sys/class/net/${name}/ifindex`);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length === 0) return { ok: true };
  return { ok: false, reason: `configured interface not found: ${missing.join(", ")}` };
}

/** The runbooks shipped with the agent, seeded into an empty knowledge base. */
const RUNBOOKS = new URL("runbooks/", ROOT_URL);

/**
 * Opens the knowledge base in the data dir; an empty one is seeded with the shipped runbooks so
 * the planner has something to recommend from the first incident on.
 */
async function openKnowledge(config: Config): Promise<KnowledgeBase> {
  const kb = await KnowledgeBase.open(
    `${config.data_dir}/knowledge`,
    knowledgeOptions(config.knowledge),
  );
  if (kb.size === 0 && RUNBOOKS.protocol === "file:") {
    try {
      const docs = await readDocuments(RUNBOOKS.pathname);
      const result = await kb.add(docs);
      log.info("Seeded the knowledge base with {count} runbooks", { count: docs.length, result });
    } catch (err) {
      log.warning("Knowledge base not seeded with runbooks: {error}", { error: errorMessage(err) });
    }
  }
  return kb;
}
