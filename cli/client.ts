/**
 * A small HTTP client for CLI commands that talk to a running agent: JSON GETs with a timeout
 * and a one-line reason when the agent cannot be reached.
 *
 * @module
 */

/** Default agent URL: X0_URL, else the embedded default listen address. */
export function defaultUrl(): string {
  try {
    return Deno.env.get("X0_URL") ?? "http://127.0.0.1:8080";
  } catch {
    return "http://127.0.0.1:8080";
  }
}

/** Raised when the agent cannot be reached at all (exit code 2 in the CLI). */
export class UnreachableError extends Error {
  /** @param message one-line reason */
  constructor(message: string) {
    super(message);
    this.name = "UnreachableError";
  }
}

/**
 * GETs `path` from the agent at `baseUrl` and parses the JSON body, whatever the status.
 *
 * @param baseUrl agent base URL
 * @param path request path
 * @param options timeout in milliseconds (default 3000)
 * @throws UnreachableError on a connection failure, timeout, or a body that is not JSON
 */
export async function getJson(
  baseUrl: string,
  path: string,
  options: { timeoutMs?: number } = {},
): Promise<{ status: number; body: unknown }> {
  let url: URL;
  try {
    url = new URL(path, baseUrl);
  } catch {
    throw new UnreachableError(`Invalid agent URL: ${baseUrl}`);
  }
  const timeoutMs = options.timeoutMs ?? 3000;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const e = err as Error;
    const why = e.name === "TimeoutError"
      ? `no answer within ${timeoutMs} ms`
      : (e.message.split("\n")[0] || e.name);
    throw new UnreachableError(`Cannot reach agent at ${url.origin}: ${why}`);
  }
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    throw new UnreachableError(
      `Agent at ${url.origin} answered ${path} with status ${res.status} and a body that is not JSON`,
    );
  }
}
