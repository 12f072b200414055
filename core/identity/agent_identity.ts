/**
 * The agent's side of identity: turns the `identity` config section into a running
 * {@link NodeIdentity} (state in `<data_dir>/identity`, the files the `identity` CLI uses), and
 * builds the SPIFFE ID authorizer and probe keyring the mesh control channel uses.
 *
 * @module
 */
import type { Config, IdentityConfig } from "../config/schema.ts";
import { ConfigError } from "../errors.ts";
import {
  authorizeMemberOf,
  authorizeOneOf,
  authorizePathPrefix,
  type Authorizer,
  authorizeSome,
} from "./authorize.ts";
import { parseJwksBundle } from "./bundle.ts";
import type { FederationConfig } from "./federation.ts";
import { type NodeIdentity, startNodeIdentity } from "./node_identity.ts";
import { createProbeKeyring, type ProbeKeyring } from "./probe_auth.ts";

/** A running agent identity: the node identity plus what the mesh needs from it. */
export interface AgentIdentity extends NodeIdentity {
  /** Which peers may hold a control session with us. */
  readonly controlAuthorizer: Authorizer;
  /** Per-neighbour probe HMAC keys, filled by the control sessions. */
  readonly probeKeys: ProbeKeyring;
  /** Whether GET /metrics needs a read token. */
  readonly metricsRequireToken: boolean;
}

/** Reads an environment variable; unset when missing or not permitted. */
function envVar(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Builds the control-channel authorizer from the config: path prefix (segment-wise) in our
 * trust domain and the listed ones, plus exact IDs.
 *
 * @param identity the identity config section
 */
export function controlAuthorizer(identity: IdentityConfig): Authorizer {
  const prefix = identity.control_allow_path_prefix.replace(/\/+$/, "");
  const domains = [identity.trust_domain, ...identity.control_allow_trust_domains];
  const rules = domains.map((td) =>
    prefix === "" ? authorizeMemberOf(td) : authorizePathPrefix(td, prefix)
  );
  if (identity.control_allow_ids.length) rules.push(authorizeOneOf(...identity.control_allow_ids));
  return authorizeSome(...rules);
}

async function federationOf(identity: IdentityConfig): Promise<FederationConfig[]> {
  const out: FederationConfig[] = [];
  for (const f of identity.federation) {
    let text: string;
    try {
      text = await Deno.readTextFile(f.initial_bundle_path);
    } catch (err) {
      throw new ConfigError(
        `Cannot read identity.federation initial bundle ${f.initial_bundle_path}: ${
          (err as Error).message
        }`,
      );
    }
    out.push({
      trustDomain: f.trust_domain,
      bundleEndpointUrl: f.bundle_endpoint_url,
      endpointSpiffeId: f.endpoint_spiffe_id,
      initialBundle: parseJwksBundle(f.trust_domain, text),
    });
  }
  return out;
}

/**
 * Starts the node identity per the config. A member on its first start attests at
 * `identity.issuer_url` with the one-time join token from `X0_JOIN_TOKEN`; with
 * `SPIFFE_ENDPOINT_SOCKET` set the Workload API supplies SVID and bundles instead.
 *
 * @param config the agent configuration
 * @param nodeId the resolved node id (default node name)
 */
export async function startAgentIdentity(config: Config, nodeId: string): Promise<AgentIdentity> {
  const id = config.identity;
  const identity = await startNodeIdentity({
    dataDir: config.data_dir,
    trustDomain: id.trust_domain,
    nodeName: id.node_name ?? nodeId,
    role: id.role,
    svidTtlMs: id.svid_ttl_s * 1000,
    issuerUrl: id.issuer_url ?? undefined,
    joinToken: envVar("X0_JOIN_TOKEN"),
    caSha256: id.ca_sha256?.toLowerCase() ?? undefined,
    spiffeEndpointSocket: envVar("SPIFFE_ENDPOINT_SOCKET"),
    apiAudience: id.api_audience,
    federation: await federationOf(id),
    bundleEndpoint: id.bundle_endpoint_port === null
      ? undefined
      : { host: config.host, port: id.bundle_endpoint_port },
  });
  return Object.assign(identity, {
    controlAuthorizer: controlAuthorizer(id),
    probeKeys: createProbeKeyring(),
    metricsRequireToken: id.metrics_require_token ?? !config.metrics_public,
  });
}
