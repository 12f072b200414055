/**
 * The API's authentication policy in one place (issue 7: "every API write carries a token"):
 * writes need a JWT-SVID bearer token with scope `operate` (identity admin routes demand `admin`
 * themselves), reads are open unless configured otherwise, and `/health`, the trust bundle and
 * the OpenAPI document stay open. `/metrics` follows its own switch. SVID attestation and
 * renewal are not API routes: they go to the issuer's TLS endpoint (core/identity/issuer_endpoint.ts).
 *
 * @module
 */
import type { Context, MiddlewareHandler, Next } from "hono";
import type { TokenVerifier } from "../core/identity/jwt.ts";
import { identityAuth, requireScope } from "./identity.ts";

/** Options of {@link apiAuth}. */
export interface ApiAuthOptions {
  /** Verifies bearer tokens. */
  verifier: TokenVerifier;
  /** Whether reads (GET, HEAD) need scope `read`. */
  readRequiresToken: boolean;
  /** Whether GET /metrics needs scope `read`. */
  metricsRequireToken: boolean;
}

const OPEN_READS = new Set(["/health", "/identity/bundle", "/openapi.json"]);
const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * App-wide middleware enforcing the token policy; mount before every route module.
 *
 * @param options verifier and the read/metrics switches
 */
export function apiAuth(options: ApiAuthOptions): MiddlewareHandler {
  const install = identityAuth(options.verifier);
  const read = requireScope("read", { verifier: options.verifier });
  const operate = requireScope("operate", { verifier: options.verifier });
  return async (c: Context, next: Next) => {
    await install(c, async () => {
      const path = c.req.path.replace(/\/+$/, "") || "/";
      let check: MiddlewareHandler | null;
      if (READ_METHODS.has(c.req.method)) {
        check = OPEN_READS.has(path)
          ? null
          : path === "/metrics"
          ? (options.metricsRequireToken ? read : null)
          : (options.readRequiresToken ? read : null);
      } else {
        // The identity routes authenticate their writes themselves (join tokens need admin).
        check = path.startsWith("/identity/") ? null : operate;
      }
      if (check) await check(c, next);
      else await next();
    });
  };
}
