/**
 * `health`: asks a running agent for /health. Exit 0 healthy, 1 degraded or unhealthy,
 * 2 unreachable (one-line reason on stderr), so scripts and service managers can use it.
 *
 * @module
 */
import { Command } from "commander";
import { defaultUrl, getJson, UnreachableError } from "./client.ts";

interface HealthBody {
  status?: string;
  version?: string;
  node_id?: string;
  uptime_s?: number;
  reasons?: string[];
}

/**
 * Checks the agent at `url`; returns the exit code and writes the report.
 *
 * @param url agent base URL
 * @param options json output and timeout
 */
export async function runHealth(
  url: string,
  options: { json?: boolean; timeoutMs?: number } = {},
): Promise<number> {
  let res: { status: number; body: unknown };
  try {
    res = await getJson(url, "/health", { timeoutMs: options.timeoutMs });
  } catch (err) {
    if (err instanceof UnreachableError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
  const body = res.body as HealthBody;
  const healthy = res.status === 200 && body.status === "ok";
  if (options.json) {
    console.log(JSON.stringify(body));
  } else {
    const line = `${body.status ?? "unknown"} node=${body.node_id ?? "?"} version=${
      body.version ?? "?"
    } uptime=${body.uptime_s ?? "?"}s`;
    console.log(line);
    for (const reason of body.reasons ?? []) console.log(`  ${reason}`);
  }
  return healthy ? 0 : 1;
}

/** The `health` command. */
export function healthCommand(): Command {
  return new Command("health")
    .description("Check a running agent: exit 0 healthy, 1 degraded/unhealthy, 2 unreachable")
    .option("--url <url>", "agent base URL (env X0_URL)", defaultUrl())
    .option("--json", "print the /health body as JSON")
    .option("--timeout <ms>", "request timeout in milliseconds", "3000")
    .action(async (opts: { url: string; json?: boolean; timeout: string }) => {
      Deno.exitCode = await runHealth(opts.url, {
        json: opts.json,
        timeoutMs: Number(opts.timeout) || 3000,
      });
    });
}
