/**
 * Assembles the HTTP API: request ids, metrics and spans on every request, the resource
 * routes, the OpenAPI document generated from the same zod schemas that validate requests, and
 * uniform JSON errors (404 for unknown paths, 405 with Allow for wrong methods).
 *
 * @module
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler, Next } from "hono";
import { requestId } from "hono/request-id";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { httpRequestDuration, httpRequestsTotal } from "../core/telemetry/http_metrics.ts";
import { tracer } from "../core/telemetry/tracing.ts";
import type { AppDeps } from "./deps.ts";
import { errorResponse, onError, validationHook } from "./errors.ts";
import { healthRoutes } from "./health.ts";
import { meshRoutes } from "./mesh.ts";
import { metricsRoutes } from "./metrics.ts";

/** Extra route modules mounted by later subsystems (knowledge, identity, incidents). */
export type RouteModule = OpenAPIHono;

/**
 * Builds the agent's Hono app.
 *
 * @param deps the running agent's subsystems
 * @param options extra route modules to mount at the root, and app-wide middleware (e.g. API
 *   authentication) that runs before every route
 */
export function createApp(
  deps: AppDeps,
  options: { modules?: RouteModule[]; middleware?: MiddlewareHandler[] } = {},
): OpenAPIHono {
  const app = new OpenAPIHono({ defaultHook: validationHook });
  app.use("*", requestId({ headerName: "x-request-id" }));
  app.use("*", observe);
  for (const mw of options.middleware ?? []) app.use("*", mw);

  app.route("/", healthRoutes(deps));
  app.route("/", meshRoutes(deps));
  app.route("/", metricsRoutes());
  for (const module of options.modules ?? []) app.route("/", module);

  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "x0tta6bl4 agent API",
      version: deps.version,
      description: "Self-healing mesh agent: health, mesh state, metrics",
    },
  });

  app.notFound((c) => {
    const allowed = allowedMethods(app, c.req.path);
    if (allowed.length > 0 && !allowed.includes(c.req.method)) {
      c.header("allow", allowed.join(", "));
      return errorResponse(
        c,
        405,
        "method_not_allowed",
        `Method ${c.req.method} not allowed on ${c.req.path}: use ${allowed.join(", ")}`,
      );
    }
    return errorResponse(c, 404, "not_found", `No route for ${c.req.method} ${c.req.path}`);
  });
  app.onError(onError);
  return app;
}

/** Counts and times every request by route pattern and wraps it in a server span. */
async function observe(c: Context, next: Next) {
  const started = performance.now();
  await tracer.startActiveSpan(
    `${c.req.method} ${c.req.path}`,
    { kind: SpanKind.SERVER, attributes: { "http.request.method": c.req.method } },
    async (span) => {
      try {
        await next();
      } finally {
        // routePath is the matched pattern; unmatched paths share one label (bounded cardinality).
        const route = c.res.status === 404 || c.res.status === 405 ? "unmatched" : c.req.routePath;
        const status = String(c.res.status);
        httpRequestsTotal.inc({ method: c.req.method, route, status });
        httpRequestDuration.observe(
          { method: c.req.method, route },
          (performance.now() - started) / 1000,
        );
        span.updateName(`${c.req.method} ${route}`);
        span.setAttribute("http.route", route);
        span.setAttribute("http.response.status_code", c.res.status);
        if (c.res.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      }
    },
  );
}

/** Methods registered for a concrete path (for 405 and the Allow header). */
function allowedMethods(app: OpenAPIHono, path: string): string[] {
  const methods = new Set<string>();
  for (const r of app.routes) {
    if (r.method === "ALL" || r.path === "/*" || r.path === "*") continue;
    if (patternRegex(r.path).test(path)) methods.add(r.method);
  }
  if (methods.has("GET")) methods.add("HEAD");
  return [...methods].sort();
}

const patternCache = new Map<string, RegExp>();
function patternRegex(pattern: string): RegExp {
  let re = patternCache.get(pattern);
  if (!re) {
    const body = pattern.split("/").map((seg) =>
      seg.startsWith(":")
        ? "[^/]+"
        : seg === "*"
        ? ".*"
        : seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
    ).join("/");
    re = new RegExp(`^${body}/?$`);
    patternCache.set(pattern, re);
  }
  return re;
}
