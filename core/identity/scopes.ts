/**
 * API scopes and their order: admin includes operate, operate includes read.
 *
 * @module
 */

/** The API scopes, weakest first. */
export const SCOPES = ["read", "operate", "admin"] as const;
/** One API scope. */
export type Scope = typeof SCOPES[number];

/** Returns true when `s` names a scope. */
export function isScope(s: unknown): s is Scope {
  return typeof s === "string" && (SCOPES as readonly string[]).includes(s);
}

/**
 * Returns true when a holder of `granted` may do what needs `required`.
 *
 * @param granted the scopes in the token
 * @param required the scope the endpoint needs
 */
export function scopeSatisfies(granted: readonly Scope[], required: Scope): boolean {
  const need = SCOPES.indexOf(required);
  return granted.some((g) => SCOPES.indexOf(g) >= need);
}
