/**
 * Test fixture: a veth pair between two fresh network namespaces (`x0bpf-<pid>-<n>-a|b`),
 * IPv6 disabled and static neighbour entries so the only traffic is what a test sends, plus
 * helpers to send UDP inside a namespace, count arrivals, and check `ip link` / `tc` for programs.
 *
 * @module
 */

/** One veth pair: side a in nsA, side b in nsB. */
export interface VethPair {
  nsA: string;
  nsB: string;
  ifA: string;
  ifB: string;
  ipA: string;
  ipB: string;
  macA: string;
  macB: string;
  /** Deletes both namespaces (and so the veth pair). */
  cleanup(): Promise<void>;
}

let counter = 0;

/** Runs a command; throws with its stderr on failure. */
export async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim();
    throw new Error(`${cmd} ${args.join(" ")} failed (${out.code}): ${err}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/** Why privileged netns tests cannot run here, or null when they can. */
export async function missingPrivileges(): Promise<string | null> {
  if (Deno.build.os !== "linux") return "Linux";
  try {
    if (Deno.uid() !== 0) return "root (netns, XDP)";
    await run("ip", ["-V"]);
  } catch {
    return "iproute2 (ip)";
  }
  try {
    Deno.statSync("/usr/lib/x86_64-linux-gnu/libbpf.so.1");
  } catch {
    try {
      Deno.statSync("/lib/x86_64-linux-gnu/libbpf.so.1");
    } catch {
      return "libbpf.so.1 (libbpf1)";
    }
  }
  return null;
}

/**
 * Returns true when the test may run; otherwise prints a loud SKIP line (and throws under
 * CI=true, where a skip is a failure).
 */
export async function canRunPrivileged(what: string): Promise<boolean> {
  const missing = await missingPrivileges();
  if (missing === null) return true;
  if (Deno.env.get("CI") === "true") throw new Error(`${what} needs ${missing} (CI=true)`);
  console.warn(`SKIP: ${what}: missing ${missing}`);
  return false;
}

/** Creates two namespaces joined by a veth pair with addresses and static neighbours. */
export async function createVethPair(): Promise<VethPair> {
  const n = ++counter;
  const tag = `${Deno.pid}-${n}`;
  const nsA = `x0bpf-${tag}-a`;
  const nsB = `x0bpf-${tag}-b`;
  const ifA = `x0b${Deno.pid % 100000}${n}a`.slice(0, 15);
  const ifB = `x0b${Deno.pid % 100000}${n}b`.slice(0, 15);
  const subnet = `10.${200 + (Deno.pid % 50)}.${n % 250}`;
  const ipA = `${subnet}.1`;
  const ipB = `${subnet}.2`;
  const macA = `02:00:0a:00:${(n % 256).toString(16).padStart(2, "0")}:01`;
  const macB = `02:00:0a:00:${(n % 256).toString(16).padStart(2, "0")}:02`;
  const cleanup = async () => {
    for (const ns of [nsA, nsB]) {
      await run("ip", ["netns", "del", ns]).catch(() => {});
    }
  };
  try {
    await run("ip", ["netns", "add", nsA]);
    await run("ip", ["netns", "add", nsB]);
    for (const ns of [nsA, nsB]) {
      for (const key of ["all", "default"]) {
        await run("ip", [
          "netns",
          "exec",
          ns,
          "sysctl",
          "-qw",
          `net.ipv6.conf.${key}.disable_ipv6=1`,
        ]);
      }
    }
    await run("ip", [
      "-n",
      nsA,
      "link",
      "add",
      ifA,
      "address",
      macA,
      "type",
      "veth",
      "peer",
      "name",
      ifB,
      "address",
      macB,
      "netns",
      nsB,
    ]);
    const side = async (ns: string, dev: string, ip: string, peerIp: string, peerMac: string) => {
      await run("ip", ["netns", "exec", ns, "sysctl", "-qw", `net.ipv6.conf.${dev}.disable_ipv6=1`])
        .catch(() => {});
      await run("ip", ["-n", ns, "addr", "add", `${ip}/24`, "dev", dev]);
      await run("ip", ["-n", ns, "link", "set", dev, "up"]);
      await run("ip", ["-n", ns, "link", "set", "lo", "up"]);
      await run("ip", [
        "-n",
        ns,
        "neigh",
        "replace",
        peerIp,
        "lladdr",
        peerMac,
        "dev",
        dev,
        "nud",
        "permanent",
      ]);
    };
    await side(nsA, ifA, ipA, ipB, macB);
    await side(nsB, ifB, ipB, ipA, macA);
  } catch (err) {
    await cleanup();
    throw err;
  }
  return { nsA, nsB, ifA, ifB, ipA, ipB, macA, macB, cleanup };
}

/** True when `ip link` in `ns` shows an XDP program on `dev`. */
export async function ipLinkShowsXdp(ns: string, dev: string): Promise<boolean> {
  const out = await run("ip", ["-n", ns, "link", "show", "dev", dev]);
  return /\bxdp(generic|drv|offload)?\b/.test(out) || out.includes("prog/xdp");
}

/** True when `tc` shows a BPF filter on the ingress hook of `dev` in `ns`. */
export async function tcShowsIngressFilter(ns: string, dev: string): Promise<boolean> {
  const out = await run("tc", ["-n", ns, "filter", "show", "dev", dev, "ingress"]).catch(() => "");
  return /\bbpf\b/.test(out);
}

const SENDER = new URL("./udp_sender.ts", import.meta.url).pathname;

/** Sends `count` UDP datagrams of `size` payload bytes from inside `ns`. */
export async function sendUdp(
  ns: string,
  opts: { from: string; to: string; port: number; count: number; size?: number; burst?: number },
): Promise<number> {
  const out = await run("ip", [
    "netns",
    "exec",
    ns,
    Deno.execPath(),
    "run",
    "--quiet",
    "--allow-net",
    SENDER,
    opts.from,
    opts.to,
    String(opts.port),
    String(opts.count),
    String(opts.size ?? 64),
    String(opts.burst ?? 50),
  ]);
  return Number(out.trim());
}

/**
 * UDP datagrams that reached the UDP layer of namespace `ns` (delivered, refused for lack of a
 * socket, or dropped on a full socket buffer): kernel counters from /proc/net/snmp, so the
 * count does not depend on how fast a receiving process is scheduled.
 */
export async function udpArrivals(ns: string): Promise<number> {
  const out = await run("ip", ["netns", "exec", ns, "cat", "/proc/net/snmp"]);
  const [names, values] = out.split("\n").filter((l) => l.startsWith("Udp:"))
    .map((l) => l.trim().split(/\s+/).slice(1));
  const get = (name: string) => Number(values[names.indexOf(name)]);
  return get("InDatagrams") + get("NoPorts") + get("RcvbufErrors");
}

/** Sends `count` UDP datagrams from side a to side b; returns how many reached b's UDP layer. */
export async function deliver(pair: VethPair, port: number, count: number): Promise<number> {
  const before = await udpArrivals(pair.nsB);
  const sent = await sendUdp(pair.nsA, { from: pair.ipA, to: pair.ipB, port, count });
  if (sent !== count) throw new Error(`Sender handed ${sent} of ${count} datagrams to the kernel`);
  return await udpArrivals(pair.nsB) - before;
}
