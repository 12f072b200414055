/**
 * Prometheus metrics of the native mesh agent.
 *
 * @module
 */
import { Counter, Gauge, Histogram, metric, registry } from "../telemetry/metrics.ts";

/** Neighbours currently ONLINE or DEGRADED. */
export const meshPeersCount = metric("mesh_peers_count", () =>
  new Gauge({
    name: "mesh_peers_count",
    help: "Neighbours currently ONLINE or DEGRADED",
    registers: [registry],
  }));

/** Mean probe round-trip time per neighbour. */
export const meshLatency = metric("mesh_latency_seconds", () =>
  new Gauge({
    name: "mesh_latency_seconds",
    help: "Mean probe round-trip time to each neighbour over the probe window, in seconds",
    labelNames: ["peer"] as const,
    registers: [registry],
  }));

/** Duration of route table recomputations (WASM core plus diff). */
export const routeRecomputeDuration = metric(
  "route_recompute_duration_seconds",
  () =>
    new Histogram({
      name: "route_recompute_duration_seconds",
      help: "Duration of route table recomputations in seconds",
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
      registers: [registry],
    }),
);

/** Kernel route install latency (one ip -batch round trip). */
export const routeInstallDuration = metric("route_install_duration_seconds", () =>
  new Histogram({
    name: "route_install_duration_seconds",
    help: "Latency of installing a batch of kernel routes in seconds",
    buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
    registers: [registry],
  }));

/** LSAs received by result (new, duplicate, stale, expired, malformed, version, self). */
export const lsaReceived = metric("lsa_received_total", () =>
  new Counter({
    name: "lsa_received_total",
    help: "Link-state advertisements received, by result",
    labelNames: ["result"] as const,
    registers: [registry],
  }));

/** Probe datagrams rejected by reason. */
export const probeRejected = metric("mesh_probe_rejected_total", () =>
  new Counter({
    name: "mesh_probe_rejected_total",
    help: "UDP probe datagrams rejected, by reason",
    labelNames: ["reason"] as const,
    registers: [registry],
  }));

/** Fast reroutes: routes switched to their backup when a neighbour went OFFLINE. */
export const failoverTotal = metric("failover_total", () =>
  new Counter({
    name: "failover_total",
    help: "Routes switched to their precomputed backup when a neighbour went OFFLINE",
    registers: [registry],
  }));

/** Verdict changes reported by the native liveness helper (up, down, unknown after a crash). */
export const livenessEvents = metric("mesh_liveness_events_total", () =>
  new Counter({
    name: "mesh_liveness_events_total",
    help: "Neighbour verdict changes reported by the native liveness helper, by verdict",
    labelNames: ["verdict"] as const,
    registers: [registry],
  }));

/** Restarts of the native liveness helper after it exited unexpectedly. */
export const livenessRestarts = metric("mesh_liveness_helper_restarts_total", () =>
  new Counter({
    name: "mesh_liveness_helper_restarts_total",
    help: "Restarts of the native liveness helper after it exited unexpectedly",
    registers: [registry],
  }));

/** 1 while the router is in its stub phase (advertising every link at the maximum cost). */
export const stubRouter = metric("mesh_stub_router", () =>
  new Gauge({
    name: "mesh_stub_router",
    help: "1 while this router advertises max-cost links at start (RFC 6987 stub phase), else 0",
    registers: [registry],
  }));

/** Stub phases that ended, by reason (converged, cap). */
export const stubPhaseEnded = metric("mesh_stub_phase_total", () =>
  new Counter({
    name: "mesh_stub_phase_total",
    help: "Stub phases at start that ended, by reason (converged: own routes installed; cap)",
    labelNames: ["reason"] as const,
    registers: [registry],
  }));

/** Duration of the last stub phase. */
export const stubPhaseSeconds = metric("mesh_stub_phase_seconds", () =>
  new Gauge({
    name: "mesh_stub_phase_seconds",
    help: "Duration of the last stub phase at start, in seconds",
    registers: [registry],
  }));
