/**
 * Parses a Yggdrasil admin endpoint (`unix:///path/to.sock` or `tcp://host:port`, as in
 * yggdrasil.conf's AdminListen) into Deno connect options.
 *
 * @module
 */
import { ValidationError } from "../../errors.ts";

/** Where the admin socket listens. */
export type AdminEndpoint =
  | { transport: "unix"; path: string; url: string }
  | { transport: "tcp"; hostname: string; port: number; url: string };

/** Debian's default AdminListen. */
export const DEFAULT_ADMIN_ENDPOINT = "unix:///var/run/yggdrasil/yggdrasil.sock";

/**
 * Parses an endpoint URL.
 *
 * @param url `unix:///abs/path` or `tcp://host:port` (IPv6 hosts in brackets)
 */
export function parseAdminEndpoint(url: string): AdminEndpoint {
  if (url.startsWith("unix://")) {
    const path = url.slice("unix://".length);
    if (!path.startsWith("/") || path.includes("\0")) {
      throw new ValidationError(`Invalid Yggdrasil admin endpoint: ${url} (need unix:///abs/path)`);
    }
    return { transport: "unix", path, url };
  }
  const m = /^tcp:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})\/?$/.exec(url);
  if (m) {
    const port = Number(m[2]);
    if (port < 1 || port > 65535) {
      throw new ValidationError(`Invalid Yggdrasil admin endpoint: ${url} (port out of range)`);
    }
    const host = m[1].startsWith("[") ? m[1].slice(1, -1) : m[1];
    return { transport: "tcp", hostname: host, port, url };
  }
  throw new ValidationError(
    `Invalid Yggdrasil admin endpoint: ${url} (need unix:///path or tcp://host:port)`,
  );
}
