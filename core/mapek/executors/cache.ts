/**
 * Cache-clear executor: runs the configured command, or POSTs to the configured HTTP hook, to
 * release memory held in caches (the first policy for High Memory).
 *
 * @module
 */
import { errorMessage, UnavailableError } from "../../errors.ts";

/**
 * Clears caches by command or hook (the command when both are set).
 *
 * @param options argv of the command, URL of the hook, timeout
 * @returns a one-line description of what was done
 */
export async function clearCache(
  options: { command?: string[]; url?: string | null; timeoutMs?: number },
): Promise<string> {
  const timeoutMs = options.timeoutMs ?? 5000;
  if (options.command && options.command.length > 0) {
    const [cmd, ...args] = options.command;
    let out: Deno.CommandOutput;
    try {
      out = await new Deno.Command(cmd, {
        args,
        stdin: "null",
        stdout: "null",
        stderr: "piped",
        signal: AbortSignal.timeout(timeoutMs),
      }).output();
    } catch (err) {
      throw new UnavailableError(`Cannot run cache-clear command ${cmd}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    if (out.code !== 0) {
      const msg = new TextDecoder().decode(out.stderr).trim().split("\n")[0];
      throw new UnavailableError(
        `Cache-clear command ${cmd} failed: exit code ${out.code}${msg ? `, ${msg}` : ""}`,
      );
    }
    return `ran ${options.command.join(" ")}`;
  }
  if (options.url) {
    let res: Response;
    try {
      res = await fetch(options.url, { method: "POST", signal: AbortSignal.timeout(timeoutMs) });
      await res.body?.cancel();
    } catch (err) {
      throw new UnavailableError(
        `Cannot reach cache-clear hook ${options.url}: ${errorMessage(err)}`,
        {
          cause: err,
        },
      );
    }
    if (!res.ok) {
      throw new UnavailableError(`Cache-clear hook ${options.url} returned ${res.status}`);
    }
    return `POST ${options.url} -> ${res.status}`;
  }
  throw new UnavailableError("No cache-clear command or hook configured");
}
