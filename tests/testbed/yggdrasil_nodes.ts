/**
 * The Yggdrasil netns testbed: three namespaces named with a per-process prefix, veth links
 * a - b - c, one real `yggdrasil` daemon per namespace (admin socket in a temp dir, output in
 * <dir>/<node>.log), and helpers to query them with yggdrasilctl, stop them by PID and remove
 * everything.
 *
 * @module
 */

export const PREFIX = `x0y${Deno.pid % 100000}`;
export const NODES = ["a", "b", "c"] as const;
export type Node = typeof NODES[number];

export async function sh(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return new TextDecoder().decode(out.stdout);
}

export async function missingTools(): Promise<string | null> {
  const missing: string[] = [];
  for (const t of ["yggdrasil", "yggdrasilctl", "ip"]) {
    const r = await new Deno.Command("sh", { args: ["-c", `command -v ${t}`], stdout: "null" })
      .output();
    if (!r.success) missing.push(t);
  }
  if (Deno.uid?.() !== 0) missing.push("root (network namespaces)");
  return missing.length ? missing.join(", ") : null;
}

export interface Daemon {
  node: Node;
  ns: string;
  endpoint: string;
  child: Deno.ChildProcess;
  stopped: boolean;
}

/** Three namespaces, two veth links, one daemon per namespace; everything named with PREFIX. */
export async function startMesh(dir: string): Promise<Map<Node, Daemon>> {
  for (const n of NODES) {
    await sh("ip", ["netns", "add", `${PREFIX}${n}`]);
    await sh("ip", ["-n", `${PREFIX}${n}`, "link", "set", "lo", "up"]);
  }
  const links: [Node, Node, number][] = [["a", "b", 1], ["b", "c", 2]];
  const ip: Record<string, string> = {};
  for (const [x, y, net] of links) {
    const [vx, vy] = [`${PREFIX}${x}${y}`, `${PREFIX}${y}${x}`];
    await sh("ip", [
      "link",
      "add",
      vx,
      "netns",
      `${PREFIX}${x}`,
      "type",
      "veth",
      "peer",
      "name",
      vy,
      "netns",
      `${PREFIX}${y}`,
    ]);
    for (const [ns, v, host] of [[x, vx, 1], [y, vy, 2]] as const) {
      await sh("ip", ["-n", `${PREFIX}${ns}`, "addr", "add", `10.250.${net}.${host}/24`, "dev", v]);
      await sh("ip", ["-n", `${PREFIX}${ns}`, "link", "set", v, "up"]);
      ip[`${ns}${net}`] = `10.250.${net}.${host}`;
    }
  }
  const daemons = new Map<Node, Daemon>();
  // the listeners (a, c) first, so that b's first dials succeed instead of backing off
  for (const n of ["a", "c", "b"] as const) {
    if (n === "b") {
      await until("a and c to listen", () =>
        Promise.resolve(["a", "c"].every((x) => {
          try {
            return Deno.statSync(`${dir}/${x}.sock`).isSocket;
          } catch {
            return false;
          }
        })));
    }
    const conf = JSON.parse(await sh("yggdrasil", ["-genconf", "-json"]));
    conf.AdminListen = `unix://${dir}/${n}.sock`;
    conf.IfName = "none";
    conf.MulticastInterfaces = [];
    conf.Listen = n === "a" ? [`tcp://${ip.a1}:14000`] : n === "c" ? [`tcp://${ip.c2}:14000`] : [];
    // b dials both ends
    conf.Peers = n === "b" ? [`tcp://${ip.a1}:14000`, `tcp://${ip.c2}:14000`] : [];
    Deno.writeTextFileSync(`${dir}/${n}.json`, JSON.stringify(conf));
    const child = spawnYggdrasil(dir, n, `${dir}/${n}.json`);
    daemons.set(n, {
      node: n,
      ns: `${PREFIX}${n}`,
      endpoint: `unix://${dir}/${n}.sock`,
      child,
      stopped: false,
    });
  }
  return daemons;
}

/** Starts yggdrasil in a node's namespace; its output goes to <dir>/<node>.log. */
export function spawnYggdrasil(dir: string, node: Node, confFile: string): Deno.ChildProcess {
  return new Deno.Command("ip", {
    args: [
      "netns",
      "exec",
      `${PREFIX}${node}`,
      "sh",
      "-c",
      'exec yggdrasil -useconffile "$0" >>"$1" 2>&1',
      confFile,
      `${dir}/${node}.log`,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

export async function stopDaemon(d: Daemon): Promise<void> {
  if (d.stopped) return;
  d.stopped = true;
  try {
    d.child.kill("SIGTERM");
  } catch { /* exited */ }
  const timer = setTimeout(() => {
    try {
      d.child.kill("SIGKILL");
    } catch { /* exited */ }
  }, 3000);
  await d.child.status;
  clearTimeout(timer);
}

export async function cleanup(daemons: Map<Node, Daemon>, dir: string): Promise<void> {
  for (const d of daemons.values()) await stopDaemon(d);
  for (const n of NODES) {
    await new Deno.Command("ip", { args: ["netns", "del", `${PREFIX}${n}`], stderr: "null" })
      .output();
  }
  Deno.removeSync(dir, { recursive: true });
}

export async function ctl(d: Daemon, request: string): Promise<Record<string, unknown>> {
  return JSON.parse(await sh("yggdrasilctl", [`-endpoint=${d.endpoint}`, "-json", request]));
}

export type CtlPeer = {
  key: string;
  address: string;
  port: number;
  remote: string;
  bytes_sent: number;
  bytes_recvd: number;
};

let logDir = "";

/** Where until() finds the daemons' logs to print on a timeout. */
export function setLogDir(dir: string): void {
  logDir = dir;
}
const logs = () => {
  let out = "";
  for (const n of NODES) {
    try {
      out += `\n--- ${n}.log\n` + Deno.readTextFileSync(`${logDir}/${n}.log`).slice(-1500);
    } catch { /* not started */ }
  }
  return out;
};

export async function until(
  what: string,
  f: () => Promise<boolean>,
  timeoutMs = 20_000,
  stepMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!await f().catch(() => false)) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}${logs()}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
