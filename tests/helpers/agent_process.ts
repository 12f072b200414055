/**
 * Test helpers that run the real agent as a child process (the `server` command) on a free
 * port with its own data dir, and tear it down by PID.
 *
 * @module
 */

const ROOT = new URL("../../", import.meta.url).pathname;

/** Permissions the test agent runs with (the same scope as `deno task cli server`). */
export const AGENT_PERMISSIONS = [
  "--unstable-kv",
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-sys",
  "--allow-run",
  "--allow-ffi",
];

/** Returns a TCP port that was free a moment ago. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/**
 * Mints an API token (JWT-SVID) with `deno task cli identity token mint` on an agent's data dir.
 *
 * @param dataDir the agent's data dir (holds its identity)
 * @param scope read, operate or admin
 * @param aud the audience (default the API's, `x0tta6bl4-api`)
 */
export async function mintApiToken(
  dataDir: string,
  scope: string,
  aud = "x0tta6bl4-api",
): Promise<string> {
  const out = await runCli([
    "identity",
    "token",
    "mint",
    "--scope",
    scope,
    "--aud",
    aud,
    "--data-dir",
    dataDir,
  ]);
  if (out.code !== 0) throw new Error(`identity token mint failed: ${out.stderr}`);
  return out.stdout.trim();
}

/** Runs `main.ts` with arguments and returns exit code, stdout and stderr. */
export async function runCli(
  args: string[],
  options: { env?: Record<string, string>; permissions?: string[]; stdin?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["run", ...(options.permissions ?? AGENT_PERMISSIONS), `${ROOT}main.ts`, ...args],
    env: { NO_COLOR: "1", ...options.env },
    cwd: ROOT,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  });
  if (options.stdin === undefined) {
    const out = await cmd.output();
    return {
      code: out.code,
      stdout: new TextDecoder().decode(out.stdout),
      stderr: new TextDecoder().decode(out.stderr),
    };
  }
  const child = cmd.spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(options.stdin));
  await w.close();
  const out = await child.output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/** A running agent child process. */
export interface AgentProcess {
  url: string;
  port: number;
  dataDir: string;
  child: Deno.ChildProcess;
  /** Collected stderr (JSON log lines), available after stop(). */
  logs(): string;
  /** Sends a signal and waits for exit; returns the exit status. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/**
 * Starts `main.ts server` on a free port and waits until /health answers.
 *
 * @param args extra server arguments
 * @param options environment, data dir, and how long to wait
 */
export async function startAgentProcess(
  args: string[] = [],
  options: { env?: Record<string, string>; dataDir?: string; timeoutMs?: number } = {},
): Promise<AgentProcess> {
  const port = freePort();
  const dataDir = options.dataDir ?? await Deno.makeTempDir({ prefix: "x0-agent-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...AGENT_PERMISSIONS,
      `${ROOT}main.ts`,
      "server",
      "--port",
      String(port),
      "--data-dir",
      dataDir,
      ...args,
    ],
    env: { NO_COLOR: "1", ...options.env },
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const decoder = new TextDecoder();
  const reading = (async () => {
    for await (const chunk of child.stderr) stderr += decoder.decode(chunk, { stream: true });
  })();
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  let exited = false;
  child.status.then(() => exited = true);
  while (true) {
    try {
      const res = await fetch(`${url}/health`);
      await res.body?.cancel();
      break;
    } catch {
      if (exited || Date.now() > deadline) {
        try {
          child.kill("SIGKILL");
        } catch { /* already gone */ }
        await child.status;
        await reading;
        throw new Error(`Agent did not start on ${url}: ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  let stopped: Promise<Deno.CommandStatus> | undefined;
  return {
    url,
    port,
    dataDir,
    child,
    logs: () => stderr,
    stop(signal: Deno.Signal = "SIGTERM") {
      stopped ??= (async () => {
        try {
          child.kill(signal);
        } catch { /* already exited */ }
        const status = await child.status;
        await reading;
        return status;
      })();
      return stopped;
    },
  };
}
