/**
 * The agent's one typed configuration. Every key has an embedded default so `deno task start`
 * needs no file; the loader layers file, environment and flags on top (core/config/load.ts).
 *
 * @module
 */
import { z } from "zod";
import { KnowledgeConfigSchema } from "../knowledge/config.ts";

const logLevel = z.enum(["trace", "debug", "info", "warning", "error", "fatal"]);

/** Settings of the native liveness helper (mesh.fast_liveness). */
const fastLivenessSchema = z.object({
  /** Run the helper; a neighbour is then usable only while both it and the probes say so. */
  enabled: z.boolean().default(false),
  /** Interval between hellos on each link (jittered to 90-100 %). */
  interval_ms: z.int().min(1).max(10_000).default(10),
  /** Silence after which a neighbour is down (at least two intervals: one loss never flaps). */
  dead_ms: z.int().min(2).max(600_000).default(40),
  /** Consecutive intervals with hellos before a neighbour is up again (hysteresis). */
  up_intervals: z.int().min(1).max(100).default(3),
  /**
   * With the helper on, silence before the probes (not the helper) declare a neighbour OFFLINE;
   * never less than mesh.dead_probes intervals. The helper detects failures; the probes back it
   * up at this slower pace, as IGP hellos behind BFD, so an agent starved of CPU for a moment
   * does not flap links the helper sees alive.
   */
  probe_dead_ms: z.int().min(0).max(600_000).default(1000),
  /** UDP port of the hellos; null: mesh.probe_port + 2. */
  port: z.int().min(1).max(65535).nullable().default(null),
  /**
   * Run the helper SCHED_FIFO, as BFD implementations run, so a loaded host does not delay its
   * hellos (needs CAP_SYS_NICE; without it the helper logs that and runs at normal priority).
   */
  realtime: z.boolean().default(true),
}).strict().refine((f) => f.dead_ms >= 2 * f.interval_ms, {
  message: "dead_ms must be at least two interval_ms (a single lost hello must not flap)",
  path: ["dead_ms"],
});

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
  /**
   * Cap of the stub phase at start (RFC 6987): until its own routes are installed after the
   * database exchange with every neighbour, the router advertises its links at the maximum cost
   * so it is not used as a transit hop; the phase ends then, or after this long. 0 disables it.
   */
  stub_on_start_ms: z.int().min(0).max(600_000).default(5000),
  /** Delay that coalesces topology changes into one route recomputation. */
  recompute_debounce_ms: z.int().min(0).max(10_000).default(10),
  /** Endpoint of an external fabric daemon (e.g. unix:///var/run/yggdrasil.sock). */
  endpoint: z.string().nullable().default(null),
  /** batman-adv soft interface the "batman" backend reads (in the agent's network namespace). */
  meshif: z.string().regex(/^(?!\.{1,2}$)[A-Za-z0-9_.:@-]{1,15}$/, {
    message: "a Linux interface name: 1-15 characters, no '/' or whitespace",
  }).default("bat0"),
  /** Interval between reads of an external fabric (yggdrasil, batman). */
  fabric_poll_ms: z.int().min(100).max(600_000).default(2000),
  /**
   * Native liveness helper (native/liveness, `deno task build:native`): a BFD-like child process
   * that says a neighbour is down `dead_ms` after its last hello, far below what the probe timers
   * allow; the probes still measure RTT, loss and quality. Both ends of a link must enable it.
   */
  fast_liveness: fastLivenessSchema.default(fastLivenessSchema.parse({})),
});

/** A service the MAPE-K loop health-checks and can restart (issue 5). */
const serviceSchema = z.object({
  /** Unique name; the diagnosis target and the incident's subject. */
  name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, {
    message: "1-64 characters of letters, digits, '.', '_' or '-'",
  }),
  /** Argv of a child process the agent supervises (started with the loop); empty: not supervised. */
  command: z.array(z.string().min(1)).default([]),
  /** Working directory of the supervised process. */
  cwd: z.string().nullable().default(null),
  /** Extra environment of the supervised process. */
  env: z.record(z.string(), z.string()).default({}),
  /** How a restart is carried out. */
  restart: z.enum(["supervisor", "systemd", "kubernetes", "none"]).default("supervisor"),
  /** systemd unit restarted when restart is "systemd". */
  systemd_unit: z.string().nullable().default(null),
  /** Pod deleted (its controller recreates it) when restart is "kubernetes". */
  kubernetes_pod: z.string().nullable().default(null),
  /** Process name checked in /proc when the service is not supervised (process-alive check). */
  process_name: z.string().nullable().default(null),
  /** TCP port checked with a connect (host tcp_host). */
  tcp_port: z.int().min(1).max(65535).nullable().default(null),
  tcp_host: z.string().default("127.0.0.1"),
  /** URL checked with GET; healthy when the status equals http_status. */
  http_url: z.url().nullable().default(null),
  http_status: z.int().min(100).max(599).default(200),
  /** Timeout of one TCP or HTTP check. */
  check_timeout_ms: z.int().min(10).max(60_000).default(500),
}).strict();

/** MAPE-K self-healing loop settings (issue 5). */
const mapekSchema = z.object({
  /** Whether the loop runs in the agent. */
  enabled: z.boolean().default(true),
  /** Time between the starts of two cycles. */
  interval_ms: z.int().min(50).max(3_600_000).default(1000),
  /** Plan and record, but never act. */
  dry_run: z.boolean().default(false),
  /** Rule thresholds of the analyzer. */
  cpu_percent: z.number().min(1).max(100).default(90),
  memory_percent: z.number().min(1).max(100).default(85),
  packet_loss_percent: z.number().min(0).max(100).default(5),
  /** Isolation Forest score above which a cycle counts as anomalous. */
  anomaly_score: z.number().min(0.5).max(1).default(0.75),
  /** Consecutive cycles a host or link symptom must hold before it is diagnosed. */
  sustain_cycles: z.int().min(1).max(100).default(3),
  /** Consecutive failed TCP/HTTP checks before a service is diagnosed down (an exited child counts at once). */
  service_failures: z.int().min(1).max(100).default(2),
  /** No action below this diagnosis confidence. */
  confidence_floor: z.number().min(0).max(1).default(0.6),
  /** Whether a lossy link may be taken out of use (interface down) when moving routes off it did not help. */
  isolate_links: z.boolean().default(false),
  /** No new action on the same target within this time. */
  cooldown_ms: z.int().min(0).max(86_400_000).default(10_000),
  /** At most this many actions in any window of action_window_ms. */
  max_actions_per_window: z.int().min(1).max(10_000).default(10),
  action_window_ms: z.int().min(1000).max(86_400_000).default(60_000),
  /** How long an action has to show its effect before the next policy is tried. */
  verify_timeout_ms: z.int().min(100).max(600_000).default(5000),
  /** Samples kept per series in the monitor's ring buffers. */
  history_size: z.int().min(16).max(100_000).default(600),
  /** Healthy samples before the Isolation Forest is first fitted, and refits every this many. */
  forest_min_samples: z.int().min(16).max(100_000).default(120),
  forest_trees: z.int().min(10).max(1000).default(100),
  /** Cgroup (path below the hierarchy roots) the host collector reads and services run in; null: the whole host. */
  cgroup: z.string().regex(/^\/[A-Za-z0-9._\/-]*$/, { message: "an absolute cgroup path" })
    .nullable().default(null),
  /** Mount point of the cgroup hierarchies. */
  cgroup_root: z.string().default("/sys/fs/cgroup"),
  /** Argv run to clear caches (High Memory); empty: none. */
  cache_clear_command: z.array(z.string().min(1)).default([]),
  /** URL POSTed to clear caches; null: none. */
  cache_clear_url: z.url().nullable().default(null),
  /** systemctl binary used for systemd restarts. */
  systemctl: z.string().default("systemctl"),
  /** Kubernetes API server; null: from KUBERNETES_SERVICE_HOST/PORT when in a cluster. */
  kubernetes_api: z.url().nullable().default(null),
  kubernetes_namespace: z.string().nullable().default(null),
  kubernetes_token_path: z.string().default("/var/run/secrets/kubernetes.io/serviceaccount/token"),
  kubernetes_ca_path: z.string().default("/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"),
}).strict();

/** eBPF telemetry on the mesh interfaces (falls back to /proc/net/dev counters). */
const ebpfSchema = z.object({
  /** Attach the telemetry program at start. */
  enabled: z.boolean().default(true),
  /** Interfaces to count on; empty means mesh.interfaces. */
  interfaces: z.array(
    z.string().regex(/^(?!\.{1,2}$)[A-Za-z0-9_.:@-]{1,15}$/, {
      message: "a Linux interface name: 1-15 characters, no '/' or whitespace",
    }),
  ).default([]),
  /** auto: TC on virtual links (veth, tun), native XDP elsewhere; or force skb, native, tc. */
  mode: z.enum(["auto", "skb", "native", "tc"]).default("auto"),
});

/** Zero-trust identity (issue 7): SPIFFE SVIDs, mTLS between agents, API tokens. */
const identitySchema = z.object({
  /** Start the node identity; off means plain TCP between agents and an unauthenticated API. */
  enabled: z.boolean().default(true),
  /** The SPIFFE trust domain of the mesh. */
  trust_domain: z.string().regex(/^[a-z0-9._-]{1,255}$/, {
    message: "a SPIFFE trust domain: 1-255 characters of a-z, 0-9, '.', '_' or '-'",
  }).default("x0tta6bl4.mesh"),
  /** issuer: holds the trust-domain CA (created on first start); member: joins an issuer. */
  role: z.enum(["issuer", "member"]).default("issuer"),
  /** Name in this node's SPIFFE ID spiffe://<td>/node/<name>; null means node_id. */
  node_name: z.string().regex(/^(?!\.{1,2}$)[A-Za-z0-9._-]{1,64}$/, {
    message: "one SPIFFE path segment: 1-64 characters of letters, digits, '.', '_' or '-'",
  }).nullable().default(null),
  /** Lifetime of the X.509-SVIDs an issuer signs (rotation at half-life). */
  svid_ttl_s: z.int().min(30).max(30 * 86400).default(3600),
  /** The issuer's TLS endpoint a member attests and renews at (https://10.0.0.1:8081). */
  issuer_url: z.url().refine((u) => u.startsWith("https://"), {
    message: "the issuer endpoint is TLS only: https://HOST:PORT (its issuer_port)",
  }).nullable().default(null),
  /** Port of the issuer's TLS endpoint on issuer nodes; null: the API port + 1 (0 with port 0). */
  issuer_port: z.int().min(0).max(65535).nullable().default(null),
  /** Hex SHA-256 of the trust-domain CA certificate; required to join with a token. */
  ca_sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, { message: "64 hex digits" }).nullable()
    .default(null),
  /** Audience API bearer tokens (JWT-SVIDs) must carry. */
  api_audience: z.string().min(1).max(256).default("x0tta6bl4-api"),
  /** Whether GET requests other than /health, /metrics and the bundle need a read token. */
  read_requires_token: z.boolean().default(false),
  /** Whether GET /metrics needs a read token; null: the opposite of metrics_public. */
  metrics_require_token: z.boolean().nullable().default(null),
  /** Carry the native mesh control channel over mTLS (plain TCP when false). */
  mesh_mtls: z.boolean().default(true),
  /** Peers admitted on the control channel: exact SPIFFE IDs (in addition to the rules below). */
  control_allow_ids: z.array(z.string().startsWith("spiffe://")).default([]),
  /** Peers admitted: SPIFFE IDs under this path prefix (segment-wise) ... */
  control_allow_path_prefix: z.string().regex(/^(\/[A-Za-z0-9._-]+)*\/?$/, {
    message: "a SPIFFE path prefix like /node, or / for any path",
  }).default("/node"),
  /** ... in our trust domain and in these (federated) trust domains. */
  control_allow_trust_domains: z.array(z.string().min(1)).default([]),
  /** Federated trust domains (https_spiffe bundle endpoint profile). */
  federation: z.array(
    z.object({
      trust_domain: z.string().min(1),
      bundle_endpoint_url: z.url().refine((u) => u.startsWith("https://"), {
        message: "an https_spiffe bundle endpoint: https://HOST:PORT/PATH",
      }),
      endpoint_spiffe_id: z.string().startsWith("spiffe://"),
      /** Path of the domain's initial SPIFFE bundle (JSON), obtained out of band. */
      initial_bundle_path: z.string().min(1),
    }).strict(),
  ).default([]),
  /** Port serving the API to peer agents over mTLS (control-channel authorizer); null: off. */
  mtls_api_port: z.int().min(0).max(65535).nullable().default(null),
  /** Port of our own https_spiffe bundle endpoint for other domains; null: not served. */
  bundle_endpoint_port: z.int().min(0).max(65535).nullable().default(null),
}).strict();

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
  /** Whether GET /metrics is open without a token (identity.metrics_require_token overrides). */
  metrics_public: z.boolean().default(true),
  mesh: meshSchema.default(meshSchema.parse({})),
  mapek: mapekSchema.default(mapekSchema.parse({})),
  services: z.array(serviceSchema).default([]),
  ebpf: ebpfSchema.default(ebpfSchema.parse({})),
  knowledge: KnowledgeConfigSchema.default(KnowledgeConfigSchema.parse({})),
  identity: identitySchema.default(identitySchema.parse({})),
}).strict();

/** The validated configuration the agent runs with. */
export type Config = z.infer<typeof configSchema>;

/** One configured service (health checks and restart method). */
export type ServiceConfig = z.infer<typeof serviceSchema>;

/** The MAPE-K loop's settings. */
export type MapekConfig = z.infer<typeof mapekSchema>;

/** The identity settings (issue 7). */
export type IdentityConfig = z.infer<typeof identitySchema>;

/** Log levels the agent accepts. */
export type LogLevel = z.infer<typeof logLevel>;

/** The embedded defaults. */
export function defaultConfig(): Config {
  return configSchema.parse({});
}
