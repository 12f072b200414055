/**
 * One request to the Yggdrasil admin socket: connect, send `{"request": name, "arguments":
 * {...}, "keepalive": false}`, read the JSON reply until the daemon closes or the value is
 * complete, and check the envelope. Every failure is an UnavailableError that says which:
 * socket missing, connection refused, timeout, request refused by the daemon, or garbage.
 *
 * @module
 */
import { z } from "zod";
import { UnavailableError } from "../../errors.ts";
import type { AdminEndpoint } from "./endpoint.ts";

/** Largest reply accepted (a big DHT is a few hundred KiB). */
const MAX_REPLY = 16 << 20;

const envelope = z.object({
  status: z.enum(["success", "error"]),
  error: z.string().optional(),
  response: z.unknown(),
});

/**
 * Sends one admin request and returns its `response` member.
 *
 * @param endpoint where the admin socket listens
 * @param request the request name, e.g. "getPeers"
 * @param options arguments and the whole-exchange timeout (default 2000 ms)
 */
export async function adminRequest(
  endpoint: AdminEndpoint,
  request: string,
  options: { args?: Record<string, unknown>; timeoutMs?: number } = {},
): Promise<unknown> {
  const timeoutMs = options.timeoutMs ?? 2000;
  const where = endpoint.url;
  let conn: Deno.Conn | undefined;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      conn?.close();
    } catch { /* already closed */ }
  }, timeoutMs);
  const timeoutError = () =>
    new UnavailableError(
      `Yggdrasil admin socket did not answer ${request} within ${timeoutMs} ms: ${where}`,
      { details: { endpoint: where, request } },
    );
  try {
    try {
      const connecting = endpoint.transport === "unix"
        ? Deno.connect({ transport: "unix", path: endpoint.path })
        : Deno.connect({ transport: "tcp", hostname: endpoint.hostname, port: endpoint.port });
      conn = await connecting;
      if (timedOut) {
        conn.close();
        throw timeoutError();
      }
    } catch (err) {
      if (err instanceof UnavailableError) throw err;
      if (err instanceof Deno.errors.NotFound) {
        throw new UnavailableError(
          `Yggdrasil admin socket not found: ${where} (is yggdrasil running?)`,
          { cause: err, details: { endpoint: where } },
        );
      }
      if (err instanceof Deno.errors.ConnectionRefused) {
        throw new UnavailableError(
          `Yggdrasil admin socket refused the connection: ${where} (is yggdrasil running?)`,
          { cause: err, details: { endpoint: where } },
        );
      }
      if (err instanceof Deno.errors.PermissionDenied) {
        throw new UnavailableError(
          `Cannot connect to the Yggdrasil admin socket: ${where}: ` +
            (err as Error).message,
          { cause: err, details: { endpoint: where } },
        );
      }
      throw new UnavailableError(
        `Cannot connect to the Yggdrasil admin socket: ${where}: ${(err as Error).message}`,
        { cause: err, details: { endpoint: where } },
      );
    }
    const body = JSON.stringify({
      request,
      arguments: options.args ?? {},
      keepalive: false,
    });
    const text = await exchange(conn, body, () => timedOut, timeoutError, where, request);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw garbage(where, request, `not JSON: ${preview(text)}`, err);
    }
    const env = envelope.safeParse(parsed);
    if (!env.success) throw garbage(where, request, `not an admin reply: ${preview(text)}`);
    if (env.data.status === "error") {
      throw new UnavailableError(
        `Yggdrasil refused ${request}: ${env.data.error ?? "no reason given"}`,
        { details: { endpoint: where, request, reason: env.data.error ?? null } },
      );
    }
    return env.data.response;
  } finally {
    clearTimeout(timer);
    try {
      conn?.close();
    } catch { /* closed by the timer or the peer */ }
  }
}

async function exchange(
  conn: Deno.Conn,
  body: string,
  timedOut: () => boolean,
  timeoutError: () => Error,
  where: string,
  request: string,
): Promise<string> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    await writeAll(conn, new TextEncoder().encode(body));
    const buf = new Uint8Array(65536);
    while (true) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
      total += n;
      if (total > MAX_REPLY) throw garbage(where, request, `reply larger than ${MAX_REPLY} bytes`);
      // keepalive false: the daemon closes after its reply, but stop as soon as it is whole
      const text = joined(chunks, total);
      if (text.trimEnd().endsWith("}") && isJson(text)) return text;
    }
  } catch (err) {
    if (timedOut()) throw timeoutError();
    if (err instanceof UnavailableError) throw err;
    throw new UnavailableError(
      `Yggdrasil admin socket closed during ${request}: ${where}: ${(err as Error).message}`,
      { cause: err, details: { endpoint: where, request } },
    );
  }
  if (timedOut()) throw timeoutError();
  if (total === 0) throw garbage(where, request, "empty reply");
  return joined(chunks, total);
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

function joined(chunks: Uint8Array[], total: number): string {
  const all = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.length;
  }
  return new TextDecoder().decode(all);
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

const preview = (s: string) => JSON.stringify(s.length > 80 ? s.slice(0, 80) + "…" : s);

function garbage(where: string, request: string, what: string, cause?: unknown): UnavailableError {
  return new UnavailableError(
    `Yggdrasil admin socket answered garbage to ${request}: ${what}`,
    { cause, details: { endpoint: where, request } },
  );
}
