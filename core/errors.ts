/**
 * The project's error classes. Each carries a machine-readable code; the HTTP layer maps
 * codes to status codes in one place (routes/app.ts) and the CLI maps them to exit codes.
 *
 * @module
 */

/** Machine-readable error codes used across the agent. */
export type ErrorCode =
  | "invalid_input"
  | "invalid_config"
  | "not_found"
  | "method_not_allowed"
  | "conflict"
  | "unauthenticated"
  | "forbidden"
  | "unavailable"
  | "unsupported"
  | "internal";

/** Base class of every error the agent raises on purpose. */
export class X0Error extends Error {
  /** Machine-readable code, stable across versions. */
  readonly code: ErrorCode;
  /** Optional structured detail for logs and API clients. */
  readonly details?: Record<string, unknown>;

  /**
   * @param code machine-readable code
   * @param message sentence-case message, detail after a colon, no trailing period
   * @param options cause and structured details
   */
  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options.details;
  }
}

/** Bad input from a client, a file or the network; nothing was changed. */
export class ValidationError extends X0Error {
  /**
   * @param message what was wrong, naming the field
   * @param options cause and details
   */
  constructor(
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super("invalid_input", message, options);
  }
}

/** An invalid configuration value; startup stops. */
export class ConfigError extends X0Error {
  /**
   * @param message names the key, the value and what was expected
   * @param options cause and details
   */
  constructor(
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super("invalid_config", message, options);
  }
}

/** A named thing does not exist. */
export class NotFoundError extends X0Error {
  /**
   * @param message what was looked for
   * @param options cause and details
   */
  constructor(
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super("not_found", message, options);
  }
}

/** A subsystem or dependency (kernel feature, peer, daemon) is not available. */
export class UnavailableError extends X0Error {
  /**
   * @param message what is unavailable and why
   * @param options cause and details
   */
  constructor(
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super("unavailable", message, options);
  }
}

/** The caller did not prove who it is. */
export class AuthError extends X0Error {
  /**
   * @param message why authentication failed
   * @param options cause and details
   */
  constructor(
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super("unauthenticated", message, options);
  }
}

/** The caller is known but not allowed to do this. */
export class ForbiddenError extends X0Error {
  /**
   * @param message what is not allowed
   * @param options cause and details
   */
  constructor(
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super("forbidden", message, options);
  }
}

/** HTTP status for each error code; the only place this mapping lives. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  invalid_input: 400,
  invalid_config: 400,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  unauthenticated: 401,
  forbidden: 403,
  unavailable: 503,
  unsupported: 501,
  internal: 500,
};

/** Returns a one-line message for any thrown value. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
