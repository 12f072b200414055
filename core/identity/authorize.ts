/**
 * Authorizers for peers identified by SPIFFE ID, after go-spiffe's tlsconfig.Authorize*:
 * an allow list of exact IDs, trust-domain membership, and path prefixes.
 *
 * @module
 */
import { parseSpiffeId, parseSpiffePath, parseTrustDomain, type SpiffeId } from "./spiffe_id.ts";

/** Decides whether an authenticated peer may talk to us. */
export type Authorizer = (id: SpiffeId) => boolean;

/** Allows every authenticated peer (any trust domain whose bundle we hold). */
export function authorizeAny(): Authorizer {
  return () => true;
}

/**
 * Allows exactly the listed SPIFFE IDs.
 *
 * @param ids allowed IDs; each is validated
 */
export function authorizeOneOf(...ids: string[]): Authorizer {
  const allowed = new Set(ids.map((i) => parseSpiffeId(i).uri));
  return (id) => allowed.has(id.uri);
}

/**
 * Allows exactly one SPIFFE ID.
 *
 * @param id the allowed ID
 */
export function authorizeId(id: string): Authorizer {
  return authorizeOneOf(id);
}

/**
 * Allows every member of a trust domain.
 *
 * @param trustDomain the trust domain name
 */
export function authorizeMemberOf(trustDomain: string): Authorizer {
  const td = parseTrustDomain(trustDomain);
  return (id) => id.trustDomain === td;
}

/**
 * Allows members of `trustDomain` whose path is `prefix` or lies under it, segment-wise
 * (`/node` admits `/node/a` but not `/nodes`).
 *
 * @param trustDomain the trust domain name
 * @param prefix a valid SPIFFE path, e.g. `/node`
 */
export function authorizePathPrefix(trustDomain: string, prefix: string): Authorizer {
  const td = parseTrustDomain(trustDomain);
  const p = parseSpiffePath(prefix);
  return (id) => id.trustDomain === td && (id.path === p || id.path.startsWith(p + "/"));
}

/** Allows a peer when every given authorizer does. */
export function authorizeAll(...authorizers: Authorizer[]): Authorizer {
  return (id) => authorizers.every((a) => a(id));
}

/** Allows a peer when any given authorizer does. */
export function authorizeSome(...authorizers: Authorizer[]): Authorizer {
  return (id) => authorizers.some((a) => a(id));
}
