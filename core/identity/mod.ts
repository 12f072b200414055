/**
 * Zero-trust identity: SPIFFE IDs, the built-in issuer, X.509-SVID validation, mTLS between
 * agents, probe HMAC keys, federation, the SPIFFE Workload API client and JWT-SVIDs for the API.
 * Re-exports only; see docs/identity.md.
 *
 * @module
 */
export * from "./authorize.ts";
export * from "./bundle.ts";
export * from "./ca.ts";
export * from "./federation.ts";
export * from "./federation_store.ts";
export * from "./identity_store.ts";
export * from "./issuer.ts";
export * from "./issuer_endpoint.ts";
export * from "./join_client.ts";
export * from "./join_tokens.ts";
export * from "./jwt.ts";
export * from "./keys.ts";
export * from "./mtls.ts";
export * from "./mtls_control_transport.ts";
export * from "./mtls_https.ts";
export * from "./node_identity.ts";
export * from "./pem.ts";
export * from "./probe_auth.ts";
export * from "./rotation.ts";
export * from "./scopes.ts";
export * from "./spiffe_id.ts";
export * from "./svid.ts";
export * from "./svid_validation.ts";
export * from "./workload_api.ts";
