/**
 * The uniform JSON error body and the one place error classes become HTTP statuses.
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { getLogger } from "@logtape/logtape";
import { type ErrorCode, HTTP_STATUS, ValidationError, X0Error } from "../core/errors.ts";

const log = getLogger(["x0", "http"]);

/** Schema of every error response: `{"error":{"code":"...","message":"..."}}`. */
export const ErrorBody = z.object({
  error: z.object({
    code: z.string().openapi({ example: "invalid_input" }),
    message: z.string().openapi({ example: "Invalid query parameter k: expected a number" }),
  }),
}).openapi("Error");

/** Builds an error response with the given status. */
export function errorResponse(c: Context, status: number, code: string, message: string) {
  return c.json({ error: { code, message } }, status as 400);
}

const STATUS_CODE: Record<number, ErrorCode> = {
  400: "invalid_input",
  401: "unauthenticated",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  409: "conflict",
  501: "unsupported",
  503: "unavailable",
};

/** Hono onError handler: maps our errors and Hono's to the uniform body; hides internals. */
export function onError(err: Error, c: Context) {
  if (err instanceof X0Error) {
    return errorResponse(c, HTTP_STATUS[err.code], err.code, err.message);
  }
  if (err instanceof HTTPException) {
    const status = err.status;
    return errorResponse(
      c,
      status,
      STATUS_CODE[status] ?? "internal",
      err.message || "Request failed",
    );
  }
  log.error("Unhandled error on {method} {path}: {error}", {
    method: c.req.method,
    path: c.req.path,
    error: err?.stack ?? String(err),
  });
  return errorResponse(c, 500, "internal", "Internal error");
}

/**
 * The OpenAPIHono `defaultHook` of every route module: a request that fails its zod schema
 * becomes a ValidationError (400 `invalid_input`) naming what failed, e.g.
 * `Invalid query since: expected ISO-8601 or epoch ms, got yesterday`.
 */
export function validationHook(
  result: { success: true } | {
    success: false;
    target: string;
    error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] };
  },
): void {
  if (result.success) return;
  const issue = result.error.issues[0];
  const where = issue.path.length
    ? issue.path.map(String).join(".")
    : result.target === "json"
    ? "body"
    : "request";
  throw new ValidationError(`Invalid ${result.target} ${where}: ${issue.message}`);
}
