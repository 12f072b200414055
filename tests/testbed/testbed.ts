/**
 * The netns mesh testbed: N routers as network namespaces joined by veth pairs per topology,
 * a /31 on every link, a loopback /32 router address per router, a management veth from the
 * root namespace so the agent's API is reachable, and one real agent (`main.ts server`) per
 * router. Everything is named with a run prefix (`x0tb<hex>`) and recorded in a state file,
 * so `down` removes it all even after the creating process crashed.
 *
 * @module
 */
import { alive, ipBatch, listNetns, must, netnsPids, nsRun, pool, stopPid } from "./netns.ts";
import type { Topology } from "./topology.ts";
import { provisionIssuerReplica } from "../../core/identity/agent_identity.ts";
import { initIssuerIdentity, isIdentityInitialized } from "../../core/identity/identity_store.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** Permissions an agent in a router namespace runs with (the final list for deno.json). */
export const AGENT_FLAGS = [
  "--unstable-kv",
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-run=ip",
  "--allow-sys",
];

/** Namespace name prefix shared by every testbed (followed by 4 hex digits of the run). */
export const PREFIX_BASE = "x0tb";

/** Link state in the testbed. */
export type LinkMode = "up" | "cut" | "carrier";

/** One router of a running testbed. */
export interface RouterState {
  name: string;
  netns: string;
  router_address: string;
  api: string;
  mgmt_root_if: string;
  mgmt_address: string;
  interfaces: string[];
  pid: number | null;
  killed: boolean;
}

/** One link of a running testbed. */
export interface LinkState {
  a: string;
  b: string;
  a_if: string;
  b_if: string;
  a_address: string;
  b_address: string;
  mode: LinkMode;
}

/** Everything `down` needs, persisted in the state file. */
export interface TestbedState {
  version: 1;
  prefix: string;
  dir: string;
  agent: "x0" | "none";
  mesh: Record<string, unknown>;
  /** Other top-level agent config sections (merged over the testbed's defaults). */
  config?: Record<string, unknown>;
  routers: RouterState[];
  links: LinkState[];
}

/** Options of {@linkcode testbedUp}. */
export interface UpOptions {
  /** Where the state is kept (one testbed per file). */
  stateFile: string;
  /** Start one agent per router ("x0", default) or none (a peer daemon is started by the caller). */
  agent?: "x0" | "none";
  /** Extra `mesh` config keys for every agent. */
  mesh?: Record<string, unknown>;
  /** Other top-level config sections for every agent (e.g. `identity`), replacing defaults. */
  config?: Record<string, unknown>;
  /** Wait for every agent API to answer (default true). */
  waitApi?: boolean;
}

const ip4 = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");

/** Reads a state file; null when there is none. */
export function readState(stateFile: string): TestbedState | null {
  try {
    return JSON.parse(Deno.readTextFileSync(stateFile)) as TestbedState;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw new Error(`Cannot read testbed state ${stateFile}: ${(err as Error).message}`);
  }
}

/** Writes the state file atomically. */
export function writeState(stateFile: string, state: TestbedState): void {
  Deno.mkdirSync(stateFile.replace(/\/[^/]*$/, "") || ".", { recursive: true });
  const tmp = `${stateFile}.tmp`;
  Deno.writeTextFileSync(tmp, JSON.stringify(state, null, 2));
  Deno.renameSync(tmp, stateFile);
}

/** Finds a router by name; throws naming the known ones. */
export function router(state: TestbedState, name: string): RouterState {
  const r = state.routers.find((x) => x.name === name);
  if (!r) {
    throw new Error(
      `No router ${name} in the testbed (have ${state.routers.map((x) => x.name).join(", ")})`,
    );
  }
  return r;
}

/** Finds the link between two routers (either order). */
export function link(state: TestbedState, a: string, b: string): LinkState {
  router(state, a);
  router(state, b);
  const l = state.links.find((x) => (x.a === a && x.b === b) || (x.a === b && x.b === a));
  if (!l) throw new Error(`No link between ${a} and ${b}`);
  return l;
}

/**
 * Creates the namespaces, links and addresses of a topology and starts the agents.
 * On any failure everything created so far is removed.
 *
 * @param topology routers and links
 * @param options state file, agent kind and mesh settings
 */
export async function testbedUp(topology: Topology, options: UpOptions): Promise<TestbedState> {
  const existing = readState(options.stateFile);
  if (existing) {
    const live = await listNetns();
    if (existing.routers.some((r) => live.includes(r.netns))) {
      throw new Error(`A testbed is already up (${existing.prefix}); run testbed down first`);
    }
  }
  const run = crypto.getRandomValues(new Uint16Array(1))[0] & 0x1fff;
  const prefix = `${PREFIX_BASE}${run.toString(16).padStart(4, "0")}`;
  const dir = `${options.stateFile.replace(/\/[^/]*$/, "") || "."}/${prefix}`;
  const idx = new Map(topology.routers.map((r, i) => [r, i]));
  const mgmtBase = (100 << 24 | 64 << 16) + run * 512;
  const routers: RouterState[] = topology.routers.map((name, i) => ({
    name,
    netns: `${prefix}-${name}`,
    router_address: ip4((10 << 24 | 255 << 16) + i + 1),
    api: `http://${ip4(mgmtBase + 2 * i + 1)}:8080`,
    mgmt_root_if: `${prefix}m${i}`,
    mgmt_address: ip4(mgmtBase + 2 * i + 1),
    interfaces: [],
    pid: null,
    killed: false,
  }));
  const links: LinkState[] = topology.links.map(([a, b], k) => {
    routers[idx.get(a)!].interfaces.push(`to-${b}`);
    routers[idx.get(b)!].interfaces.push(`to-${a}`);
    return {
      a,
      b,
      a_if: `to-${b}`,
      b_if: `to-${a}`,
      a_address: ip4((10 << 24 | 200 << 16) + 2 * k),
      b_address: ip4((10 << 24 | 200 << 16) + 2 * k + 1),
      mode: "up",
    };
  });
  const state: TestbedState = {
    version: 1,
    prefix,
    dir,
    agent: options.agent ?? "x0",
    mesh: options.mesh ?? {},
    config: options.config,
    routers,
    links,
  };
  writeState(options.stateFile, state);
  try {
    await ipBatch(routers.map((r) => `netns add ${r.netns}`));
    await pool(routers, 8, (r) =>
      must("ip", [
        "netns",
        "exec",
        r.netns,
        "sysctl",
        "-qw",
        "net.ipv4.ip_forward=1",
        "net.ipv4.conf.all.rp_filter=0",
        "net.ipv4.conf.default.rp_filter=0",
        "net.ipv6.conf.all.accept_dad=0",
        "net.ipv6.conf.default.accept_dad=0",
      ]));
    await ipBatch(routers.flatMap((r) => [
      `link add ${r.mgmt_root_if} type veth peer name mgmt netns ${r.netns}`,
      `addr add ${ip4(mgmtBase + 2 * idx.get(r.name)!)}/31 dev ${r.mgmt_root_if}`,
      `link set ${r.mgmt_root_if} up`,
    ]));
    await pool(routers, 8, (r) =>
      ipBatch([
        "link set lo up",
        `addr add ${r.router_address}/32 dev lo`,
        ...links.filter((l) => l.a === r.name).map((l) =>
          `link add ${l.a_if} type veth peer name ${l.b_if} netns ${router(state, l.b).netns}`
        ),
      ], r.netns));
    await pool(routers, 8, (r) =>
      ipBatch([
        `addr add ${r.mgmt_address}/31 dev mgmt`,
        "link set mgmt up",
        ...links.flatMap((l) =>
          l.a === r.name
            ? [`addr add ${l.a_address}/31 dev ${l.a_if}`, `link set ${l.a_if} up`]
            : l.b === r.name
            ? [`addr add ${l.b_address}/31 dev ${l.b_if}`, `link set ${l.b_if} up`]
            : []
        ),
      ], r.netns));
    if (state.agent === "x0") {
      if (wantsMtls(state)) await provisionIdentities(state);
      await pool(routers, 20, (r) => startRouterAgent(state, r));
      writeState(options.stateFile, state);
      if (options.waitApi ?? true) await pool(routers, 20, (r) => waitApi(r, 60_000, state.dir));
    }
    return state;
  } catch (err) {
    await testbedDown(options.stateFile).catch(() => {});
    throw err;
  }
}

/** Whether the caller asked for the mTLS control channel (`config: {identity: {mesh_mtls: true}}`). */
function wantsMtls(state: TestbedState): boolean {
  const identity = state.config?.identity as { mesh_mtls?: boolean; enabled?: boolean } | undefined;
  return identity?.mesh_mtls === true && identity.enabled !== false;
}

/**
 * Gives every router an SVID of one trust domain (the agents' default, x0tta6bl4.mesh): the
 * first router's data dir gets a new CA, the others share it as issuer replicas, so each agent
 * renews its own SVID and the control channel between them is mTLS.
 */
export async function provisionIdentities(state: TestbedState): Promise<void> {
  const dataOf = (r: RouterState) => `${state.dir}/${r.name}/data`;
  const [first, ...rest] = state.routers;
  if (!await isIdentityInitialized(dataOf(first))) {
    await initIssuerIdentity(dataOf(first), {
      trustDomain: "x0tta6bl4.mesh",
      nodeName: first.name,
    });
  }
  for (const r of rest) {
    if (await isIdentityInitialized(dataOf(r))) continue;
    await provisionIssuerReplica(dataOf(first), dataOf(r), { nodeName: r.name });
  }
}

/** Writes the router's config and starts its agent detached (survives the CLI exiting). */
export async function startRouterAgent(state: TestbedState, r: RouterState): Promise<void> {
  const rdir = `${state.dir}/${r.name}`;
  await Deno.mkdir(`${rdir}/data`, { recursive: true });
  await Deno.remove(`${rdir}/pid`).catch(() => {});
  const config = {
    node_id: r.name,
    host: r.mgmt_address,
    port: 8080,
    data_dir: `${rdir}/data`,
    log_level: "info",
    shutdown_timeout_ms: 3000,
    // Each router would be its own trust-domain issuer, so agents could not authenticate each
    // other: the control channel runs on plain TCP here unless the caller provisions identity.
    identity: { mesh_mtls: false },
    ...(state.config ?? {}),
    mesh: {
      backend: "native",
      interfaces: r.interfaces,
      router_address: r.router_address,
      ...state.mesh,
    },
  };
  await Deno.writeTextFile(`${rdir}/config.json`, JSON.stringify(config, null, 2));
  r.pid = await launchAgent(r, rdir);
  r.killed = false;
}

/**
 * Starts `main.ts server --config <rdir>/config.json` inside the router's namespace, detached in
 * its own session (so it outlives this process and can be killed as a power failure would), with
 * its log in `<rdir>/agent.log`. Returns the agent's PID.
 *
 * @param r the router
 * @param rdir the router's state directory holding config.json
 * @param options extra environment for the agent
 */
export async function launchAgent(
  r: RouterState,
  rdir: string,
  options: { env?: Record<string, string> } = {},
): Promise<number> {
  const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  const envs = Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${q(v)}`);
  const cmd = [
    ...["ip", "netns", "exec", r.netns, "env"].map(q),
    ...envs,
    ...[Deno.execPath(), "run", ...AGENT_FLAGS, `${ROOT}main.ts`, "server", "--config"].map(q),
    q(`${rdir}/config.json`),
  ].join(" ");
  await Deno.remove(`${rdir}/pid`).catch(() => {});
  new Deno.Command("setsid", {
    args: [
      "sh",
      "-c",
      `echo $$ > ${q(rdir + "/pid")}; exec ${cmd} >>${q(rdir + "/agent.log")} 2>&1`,
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn().unref();
  // setsid forks when the spawned process leads its group: the shell reports the real PID.
  const until = performance.now() + 10_000;
  let pid = NaN;
  while (!(pid > 0) && performance.now() < until) {
    await new Promise((res) => setTimeout(res, 20));
    pid = Number(await Deno.readTextFile(`${rdir}/pid`).catch(() => ""));
  }
  if (!(pid > 0)) throw new Error(`Agent of ${r.name} did not start`);
  return pid;
}

/** Waits until the router's API answers /health (any status). */
export async function waitApi(
  r: RouterState,
  timeoutMs: number,
  dir?: string,
): Promise<void> {
  const logTail = () => {
    try {
      const lines = Deno.readTextFileSync(`${dir}/${r.name}/agent.log`).trim().split("\n");
      return `: ${lines.slice(-3).join(" | ")}`;
    } catch {
      return "";
    }
  };
  const until = performance.now() + timeoutMs;
  while (performance.now() < until) {
    try {
      const res = await fetch(`${r.api}/health`, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      return;
    } catch {
      if (r.pid !== null && !(await alive(r.pid))) {
        throw new Error(`Agent of ${r.name} exited${logTail()}`);
      }
      await new Promise((res) => setTimeout(res, 100));
    }
  }
  throw new Error(`Agent of ${r.name} did not answer within ${timeoutMs} ms${logTail()}`);
}

/**
 * Removes a testbed: stops its agents and every process in its namespaces, deletes the
 * namespaces (which removes the veths) and its directory. Also removes leftover namespaces of
 * the same run. Safe to run twice, and after a crash.
 */
export async function testbedDown(stateFile: string): Promise<{ removed: string[] }> {
  const state = readState(stateFile);
  if (!state) return { removed: [] };
  await Promise.all(state.routers.map((r) => r.pid !== null ? stopPid(r.pid) : Promise.resolve()));
  const live = (await listNetns()).filter((n) => n.startsWith(`${state.prefix}-`));
  await pool(live, 8, async (ns) => {
    for (const pid of await netnsPids(ns)) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // Gone already.
      }
    }
  });
  if (live.length > 0) await ipBatch(live.map((ns) => `netns del ${ns}`)).catch(() => {});
  // Root-side management veths vanish with their peers; delete any that did not.
  for (const r of state.routers) {
    await nsRunRoot(["link", "del", r.mgmt_root_if]);
  }
  await Deno.remove(state.dir, { recursive: true }).catch(() => {});
  await Deno.remove(stateFile).catch(() => {});
  return { removed: live };
}

async function nsRunRoot(args: string[]): Promise<void> {
  await new Deno.Command("ip", { args, stdout: "null", stderr: "null" }).output();
}

/**
 * Adds (-A) or deletes (-D) the rules that drop every IPv4 and IPv6 packet entering or leaving
 * `iface` (the raw table, before conntrack): one shell per namespace so a cut is quick.
 */
async function iptables(netns: string, op: "-A" | "-D", iface: string): Promise<void> {
  const rules = ["iptables", "ip6tables"].flatMap((tool) => [
    `${tool} -w -t raw ${op} PREROUTING -i ${iface} -j DROP`,
    `${tool} -w -t raw ${op} OUTPUT -o ${iface} -j DROP`,
  ]);
  const script = op === "-A" ? rules.join(" && ") : rules.map((r) => `${r} 2>/dev/null`).join("; ");
  const r = await nsRun(netns, ["sh", "-c", op === "-A" ? script : `${script}; true`]);
  if (r.code !== 0) throw new Error(`iptables failed in ${netns}: ${r.stderr.trim()}`);
}

/**
 * Cuts the link between two routers: silently (all traffic dropped both ways, carrier up) or,
 * with `carrier`, by taking both interfaces down.
 */
export async function cut(state: TestbedState, a: string, b: string, carrier = false) {
  const l = link(state, a, b);
  if (l.mode !== "up") throw new Error(`Link ${a}-${b} is already ${l.mode}`);
  const A = router(state, l.a), B = router(state, l.b);
  if (carrier) {
    await Promise.all([
      must("ip", ["-n", A.netns, "link", "set", l.a_if, "down"]),
      must("ip", ["-n", B.netns, "link", "set", l.b_if, "down"]),
    ]);
  } else {
    await Promise.all([iptables(A.netns, "-A", l.a_if), iptables(B.netns, "-A", l.b_if)]);
  }
  l.mode = carrier ? "carrier" : "cut";
}

/** Undoes a cut of either kind. */
export async function restore(state: TestbedState, a: string, b: string) {
  const l = link(state, a, b);
  const A = router(state, l.a), B = router(state, l.b);
  await Promise.all([
    iptables(A.netns, "-D", l.a_if),
    iptables(B.netns, "-D", l.b_if),
    must("ip", ["-n", A.netns, "link", "set", l.a_if, "up"]),
    must("ip", ["-n", B.netns, "link", "set", l.b_if, "up"]),
  ]);
  l.mode = "up";
}

/** Stops a router entirely, as a power failure would: agent killed, all its links silent. */
export async function kill(state: TestbedState, name: string) {
  const r = router(state, name);
  if (r.killed) throw new Error(`Router ${name} is already killed`);
  // Links go silent first, then the agent dies: traffic and probes stop at the same moment.
  await iptables(r.netns, "-A", "to-+");
  if (r.pid !== null) {
    try {
      Deno.kill(r.pid, "SIGKILL");
    } catch {
      // Already dead.
    }
  }
  r.killed = true;
}

/** Brings a killed router back: links audible again, agent restarted. */
export async function revive(state: TestbedState, name: string) {
  const r = router(state, name);
  await iptables(r.netns, "-D", "to-+");
  if (state.agent === "x0") {
    await startRouterAgent(state, r);
    await waitApi(r, 30_000, state.dir);
  }
  r.killed = false;
}

/** The `testbed status --json` document. */
export function statusDocument(state: TestbedState) {
  return {
    routers: state.routers.map((r) => ({
      name: r.name,
      netns: r.netns,
      router_address: r.router_address,
      api: r.api,
      up: !r.killed,
    })),
    links: state.links.map((l) => ({ a: l.a, b: l.b, up: l.mode === "up", mode: l.mode })),
  };
}
