/**
 * Small wrappers over `ip` for the testbed: run commands (in the root namespace or inside one),
 * run an `ip -batch` script, and bounded parallelism.
 *
 * @module
 */

/** Result of a command. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command; never throws for a non-zero exit (callers decide). */
export async function run(cmd: string, args: string[], stdin?: string): Promise<RunResult> {
  const c = new Deno.Command(cmd, {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  });
  let out: Deno.CommandOutput;
  if (stdin === undefined) {
    out = await c.output();
  } else {
    const child = c.spawn();
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
    out = await child.output();
  }
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Runs a command and throws with its stderr when it fails. */
export async function must(cmd: string, args: string[], stdin?: string): Promise<string> {
  const r = await run(cmd, args, stdin);
  if (r.code !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} failed (${r.code}): ${r.stderr.trim()}`);
  }
  return r.stdout;
}

/** Runs `ip [-n netns] -batch -` with the given lines. */
export function ipBatch(lines: string[], netns?: string): Promise<string> {
  const args = netns ? ["-n", netns, "-batch", "-"] : ["-batch", "-"];
  return must("ip", args, lines.join("\n") + "\n");
}

/** Runs a command inside a network namespace. */
export function nsRun(netns: string, cmd: string[]): Promise<RunResult> {
  return run("ip", ["netns", "exec", netns, ...cmd]);
}

/** Maps over items with at most `limit` promises in flight. */
export async function pool<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Names of every network namespace on the host. */
export async function listNetns(): Promise<string[]> {
  const r = await run("ip", ["netns", "list"]);
  return r.stdout.split("\n").map((l) => l.split(" ")[0]).filter(Boolean);
}

/** PIDs of processes inside a namespace. */
export async function netnsPids(netns: string): Promise<number[]> {
  const r = await run("ip", ["netns", "pids", netns]);
  return r.stdout.split("\n").filter((l) => /^\d+$/.test(l.trim())).map(Number);
}

/** Whether the process exists and is not a zombie (via ps: /proc/<pid> needs --allow-all). */
export async function alive(pid: number): Promise<boolean> {
  const r = await run("ps", ["-o", "stat=", "-p", String(pid)]);
  return r.code === 0 && r.stdout.trim() !== "" && !r.stdout.trim().startsWith("Z");
}

/** Sends SIGTERM, waits up to `graceMs`, then SIGKILL. */
export async function stopPid(pid: number, graceMs = 3000): Promise<void> {
  try {
    Deno.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  const until = performance.now() + graceMs;
  while (performance.now() < until && await alive(pid)) await new Promise((r) => setTimeout(r, 50));
  if (await alive(pid)) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // Exited in between.
    }
  }
}
