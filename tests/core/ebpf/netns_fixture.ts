/**
 * Test fixture: a veth pair between two fresh network namespaces (`x0bpf-<pid>-<n>-a|b`),
 * IPv6 disabled and static neighbour entries so the only traffic is what a test sends, plus
 * helpers to send/receive UDP inside a namespace and to check `ip link` for XDP.
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
const RECEIVER = new URL("./udp_receiver.ts", import.meta.url).pathname;

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

/** A UDP receiver running inside a namespace. */
export interface UdpReceiver {
  /** Waits until `expected` datagrams arrived or the line went idle; returns the count. */
  finish(): Promise<number>;
}

/** Starts a UDP receiver in `ns` and resolves once it is bound. */
export async function startUdpReceiver(
  ns: string,
  opts: { ip: string; port: number; expected: number; idleMs?: number; firstPacketMs?: number },
): Promise<UdpReceiver> {
  const child = new Deno.Command("ip", {
    args: [
      "netns",
      "exec",
      ns,
      Deno.execPath(),
      "run",
      "--quiet",
      "--allow-net",
      "--unstable-net",
      RECEIVER,
      opts.ip,
      String(opts.port),
      String(opts.expected),
      String(opts.idleMs ?? 1500),
      String(opts.firstPacketMs ?? 20_000),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  const nextLine = async (): Promise<string> => {
    while (!buffered.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error("Receiver exited early");
      buffered += value;
    }
    const i = buffered.indexOf("\n");
    const line = buffered.slice(0, i);
    buffered = buffered.slice(i + 1);
    return line;
  };
  const first = await nextLine();
  if (first !== "ready") throw new Error(`Receiver did not start: ${first}`);
  return {
    finish: async () => {
      const line = await nextLine();
      while (!(await reader.read()).done) { /* drain until the receiver exits */ }
      await child.status;
      return Number(line);
    },
  };
}
