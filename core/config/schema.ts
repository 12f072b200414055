/**
 * The agent's one typed configuration. Every key has an embedded default so `deno task start`
 * needs no file; the loader layers file, environment and flags on top (core/config/load.ts).
 *
 * @module
 */
import { z } from "zod";

const logLevel = z.enum(["trace", "debug", "info", "warning", "error", "fatal"]);

/** Mesh agent settings (link probing, flooding, routing); filled in by the mesh issue. */
const meshSchema = z.object({
  /** Fabric the agent reads: its own link-state protocol, or an external daemon. */
  backend: z.enum(["native", "yggdrasil", "batman"]).default("native"),
  /** Interfaces to probe and flood on; empty means every non-loopback interface that is up. */
  interfaces: z.array(
    z.string().regex(/^(?!\.{1,2}$)[A-Za-z0-9_.:@-]{1,15}$/, {
      message: "a Linux interface name: 1-15 characters, no '/' or whitespace",
    }),
  ).default([]),
  /** This router's loopback /32 address announced in its LSA; null for a standalone node. */
  router_address: z.ipv4().nullable().default(null),
  /** UDP port for neighbour discovery and probes. */
  probe_port: z.int().min(1).max(65535).default(6970),
  /** TCP port of the link-state control channel. */
  control_port: z.int().min(1).max(65535).default(6971),
  /** Interval between probes on each interface. */
  probe_interval_ms: z.int().min(5).max(60_000).default(50),
  /** Missed probes in a row before a neighbour is declared OFFLINE. */
  dead_probes: z.int().min(2).max(100).default(3),
  /** Whether the agent installs routes in the kernel. */
  install_routes: z.boolean().default(true),
  /** Kernel route protocol number that tags the agent's routes (see /etc/iproute2/rt_protos). */
  route_protocol: z.int().min(1).max(255).default(99),
  /** Consecutive probe intervals with traffic before a neighbour is ONLINE (hysteresis). */
  up_probes: z.int().min(1).max(100).default(3),
  /** Seconds after which an LSA that was not refreshed is removed from the database. */
  lsa_max_age_s: z.int().min(5).max(3600).default(60),
  /** Seconds between re-originations of our own LSA (keep well below lsa_max_age_s). */
  lsa_refresh_s: z.int().min(1).max(1800).default(15),
  /** Delay that coalesces topology changes into one route recomputation. */
  recompute_debounce_ms: z.int().min(0).max(10_000).default(10),
  /** Endpoint of an external fabric daemon (e.g. unix:///var/run/yggdrasil.sock). */
  endpoint: z.string().nullable().default(null),
});

/** Zod schema of the whole configuration, with defaults. */
export const configSchema = z.object({
  /** Stable identity of this node; generated once and kept in the data dir when null. */
  node_id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, {
    message: "1-64 characters of letters, digits, '.', '_' or '-'",
  }).nullable().default(null),
  /** Address the HTTP API listens on. */
  host: z.string().min(1).default("127.0.0.1"),
  /** Port of the HTTP API; 0 picks a free port. */
  port: z.int().min(0).max(65535).default(8080),
  /** Directory for Deno KV and all state. */
  data_dir: z.string().min(1).default("./data"),
  /** Lowest log level written (JSON lines on stderr). */
  log_level: logLevel.default("info"),
  /** Longest a graceful shutdown may take before the process exits anyway. */
  shutdown_timeout_ms: z.int().min(100).max(60_000).default(5000),
  /** Whether GET /metrics needs a token (the identity issue enforces it). */
  metrics_public: z.boolean().default(true),
  mesh: meshSchema.default(meshSchema.parse({})),
}).strict();

/** The validated configuration the agent runs with. */
export type Config = z.infer<typeof configSchema>;

/** Log levels the agent accepts. */
export type LogLevel = z.infer<typeof logLevel>;

/** The embedded defaults. */
export function defaultConfig(): Config {
  return configSchema.parse({});
}
