/**
 * Identity routes: the trust bundle (open) and join-token creation (admin scope), plus the
 * `requireScope` middleware every route module can use to demand a JWT-SVID bearer token.
 * Attestation and renewal are not here: agents reach the issuer only over its TLS endpoint
 * (core/identity/issuer_endpoint.ts); the plain-HTTP routes were removed.
 *
 * @module
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler, Next } from "hono";
import { AuthError, ForbiddenError, UnavailableError } from "../core/errors.ts";
import { bundleToJwks, bundleToPem, type TrustBundle } from "../core/identity/bundle.ts";
import type { BuiltinIssuer } from "../core/identity/issuer.ts";
import type { Principal, TokenVerifier } from "../core/identity/jwt.ts";
import { type Scope, scopeSatisfies } from "../core/identity/scopes.ts";
import { ErrorBody, validationHook } from "./errors.ts";

/** What the identity routes need from the running agent. */
export interface IdentityRouteDeps {
  /** Our trust bundle (from the built-in issuer or the Workload API). */
  bundle(): TrustBundle;
  /** The built-in issuer, on issuer nodes only; elsewhere issuing routes answer 503. */
  issuer?: BuiltinIssuer;
  /** Verifies API bearer tokens (JWT-SVIDs). */
  verifier: TokenVerifier;
}

/** Hono context variables set by the identity middleware. */
export type IdentityVariables = {
  /** The authenticated caller, set by {@link requireScope}. */
  principal: Principal;
  /** The verifier installed by {@link identityAuth}. */
  identityVerifier: TokenVerifier;
};

/**
 * Installs the token verifier for every later `requireScope(scope)` in the app. Mount once,
 * app-wide, before the routes.
 *
 * @param verifier the API token verifier
 */
export function identityAuth(verifier: TokenVerifier): MiddlewareHandler {
  return async (c: Context, next: Next) => {
    c.set("identityVerifier", verifier);
    await next();
  };
}

/**
 * Requires a JWT-SVID bearer token carrying `scope` (admin ⊇ operate ⊇ read): 401 without a
 * valid token, 403 when the scope is missing. Sets `principal` for the handler. Uses
 * `options.verifier`, else the one installed by {@link identityAuth}; with neither it fails
 * closed (503).
 *
 * @param scope the scope the route needs
 * @param options an explicit verifier
 * @example
 * app.use("/routes/*", requireScope("operate"));
 */
export function requireScope(
  scope: Scope,
  options: { verifier?: TokenVerifier } = {},
): MiddlewareHandler {
  return async (c: Context, next: Next) => {
    const verifier = options.verifier ?? (c.get("identityVerifier") as TokenVerifier | undefined);
    if (!verifier) throw new UnavailableError("API authentication is not configured");
    const header = c.req.header("authorization") ?? "";
    const m = /^Bearer\s+([A-Za-z0-9._~+/=-]+)$/i.exec(header.trim());
    if (!m) {
      c.header("www-authenticate", 'Bearer realm="x0tta6bl4"');
      throw new AuthError("Missing bearer token: send Authorization: Bearer <JWT-SVID>");
    }
    let principal: Principal;
    try {
      principal = await verifier(m[1]);
    } catch (err) {
      c.header("www-authenticate", 'Bearer realm="x0tta6bl4", error="invalid_token"');
      throw err instanceof AuthError ? err : new AuthError("Invalid token", { cause: err });
    }
    if (!scopeSatisfies(principal.scopes, scope)) {
      throw new ForbiddenError(
        `Token of ${principal.id.uri} lacks scope ${scope}: has ${
          principal.scopes.join(" ") || "none"
        }`,
      );
    }
    c.set("principal", principal);
    await next();
  };
}

const JwksBody = z.object({
  keys: z.array(z.record(z.string(), z.unknown())),
  spiffe_sequence: z.number().int(),
  spiffe_refresh_hint: z.number().int(),
}).openapi("SpiffeBundle");

const JoinTokenRequest = z.object({
  node: z.string().regex(/^[A-Za-z0-9._-]+$/).refine((s) => s !== "." && s !== "..", {
    message: "must not be . or ..",
  }).openapi({ description: "Node name; the SVID will be spiffe://<td>/node/<node>" }),
  ttl_s: z.number().int().min(1).max(7 * 86400).default(600),
}).openapi("JoinTokenRequest");

const JoinTokenResponse = z.object({
  token: z.string(),
  spiffe_id: z.string(),
  expires_at: z.string(),
}).openapi("JoinToken");

const errors = {
  400: { description: "Bad input", content: { "application/json": { schema: ErrorBody } } },
  401: { description: "Not authenticated", content: { "application/json": { schema: ErrorBody } } },
  403: { description: "Missing scope", content: { "application/json": { schema: ErrorBody } } },
  503: {
    description: "Not an issuer node",
    content: { "application/json": { schema: ErrorBody } },
  },
};

const bundleRoute = createRoute({
  method: "get",
  path: "/identity/bundle",
  summary: "Trust bundle of this trust domain (SPIFFE bundle format, or PEM)",
  tags: ["identity"],
  request: { query: z.object({ format: z.enum(["jwks", "pem"]).default("jwks") }) },
  responses: {
    200: {
      description: "The bundle",
      content: {
        "application/json": { schema: JwksBody },
        "application/x-pem-file": { schema: z.string() },
      },
    },
    400: errors[400],
  },
});

const tokenRoute = createRoute({
  method: "post",
  path: "/identity/join-tokens",
  summary: "Create a one-time join token for a node (admin)",
  tags: ["identity"],
  security: [{ bearer: [] }],
  middleware: [requireScope("admin")] as const,
  request: {
    body: { required: true, content: { "application/json": { schema: JoinTokenRequest } } },
  },
  responses: {
    201: { description: "Created", content: { "application/json": { schema: JoinTokenResponse } } },
    ...errors,
  },
});

/**
 * Routes of the identity resource.
 *
 * @param deps bundle, issuer (issuer nodes) and token verifier
 */
export function identityRoutes(deps: IdentityRouteDeps): OpenAPIHono {
  const app = new OpenAPIHono({ defaultHook: validationHook });
  app.use("/identity/*", identityAuth(deps.verifier));
  const issuer = () => {
    if (!deps.issuer) throw new UnavailableError("This node is not an issuer: ask an issuer node");
    return deps.issuer;
  };

  app.openapi(bundleRoute, async (c) => {
    const { format } = c.req.valid("query");
    if (format === "pem") {
      return c.body(bundleToPem(deps.bundle()), 200, { "content-type": "application/x-pem-file" });
    }
    return c.json(await bundleToJwks(deps.bundle()) as z.infer<typeof JwksBody>, 200);
  });

  app.openapi(tokenRoute, async (c) => {
    const body = c.req.valid("json");
    const created = await issuer().createJoinToken({
      nodeName: body.node,
      ttlMs: body.ttl_s * 1000,
    });
    return c.json({
      token: created.token,
      spiffe_id: created.spiffeId,
      expires_at: new Date(created.expiresAt).toISOString(),
    }, 201);
  });

  return app;
}
