/**
 * The agent's side of identity: turns the `identity` config section into a running
 * {@link NodeIdentity} (state in `<data_dir>/identity`, the files the `identity` CLI uses), and
 * builds the SPIFFE ID authorizer and probe keyring the mesh control channel uses.
 *
 * @module
 */
import type { Config, IdentityConfig } from "../config/schema.ts";
import { ConfigError, ValidationError } from "../errors.ts";
import {
  authorizeMemberOf,
  authorizeOneOf,
  authorizePathPrefix,
  type Authorizer,
  authorizeSome,
} from "./authorize.ts";
import { parseJwksBundle } from "./bundle.ts";
import type { FederationConfig } from "./federation.ts";
import {
  identityDir,
  identityFile,
  type IdentityState,
  isIdentityInitialized,
  loadIdentity,
  saveEndpointSvid,
  saveSvid,
  writeFileAtomic,
} from "./identity_store.ts";
import { generateKeyPair } from "./keys.ts";
import { spiffeIdFromParts } from "./spiffe_id.ts";
import { DEFAULT_SVID_TTL_MS, issueX509Svid } from "./svid.ts";
import { type NodeIdentity, startNodeIdentity } from "./node_identity.ts";
import { createProbeKeyring, type ProbeKeyring } from "./probe_auth.ts";
import { mintEndpointSvid } from "./issuer_endpoint.ts";
import { type MtlsPeerInfo, serveMtlsHttps } from "./mtls_https.ts";

/** A running agent identity: the node identity plus what the mesh needs from it. */
export interface AgentIdentity extends NodeIdentity {
  /** Which peers may hold a control session with us. */
  readonly controlAuthorizer: Authorizer;
  /** Probe HMAC keys by neighbour link address, installed by the mTLS control sessions. */
  readonly probeKeys: ProbeKeyring;
  /** Whether GET /metrics needs a read token. */
  readonly metricsRequireToken: boolean;
  /**
   * Serves `handler` (the agent's API) to peer agents over mTLS on `identity.mtls_api_port`
   * (client SVID required, authorized like the control channel); resolves with the port, or
   * null when the port is not configured. Closed by `close()`.
   */
  serveMtlsApi(
    handler: (req: Request, info: MtlsPeerInfo) => Response | Promise<Response>,
  ): Promise<
    number | null
  >;
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
 * `identity.issuer_url` (the issuer's TLS endpoint, CA pinned by `identity.ca_sha256`) with the
 * one-time join token from `X0_JOIN_TOKEN`; with `SPIFFE_ENDPOINT_SOCKET` set the Workload API
 * supplies SVID and bundles instead. Issuer nodes serve their TLS endpoint on
 * `identity.issuer_port` (default: the API port + 1).
 *
 * @param config the agent configuration
 * @param nodeId the resolved node id (default node name)
 */
export async function startAgentIdentity(config: Config, nodeId: string): Promise<AgentIdentity> {
  const id = config.identity;
  const issuerPort = id.issuer_port ?? (config.port === 0 ? 0 : config.port + 1);
  if (issuerPort > 65535) {
    throw new ConfigError(`identity.issuer_port: API port ${config.port} + 1 is not a port`);
  }
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
    issuerEndpoint: { host: config.host, port: issuerPort, optional: id.issuer_port === null },
  });
  const authorize = controlAuthorizer(id);
  let mtlsApi: { port: number; close(): Promise<void> } | undefined;
  const closeIdentity = identity.close;
  return Object.assign(identity, {
    controlAuthorizer: authorize,
    probeKeys: createProbeKeyring(),
    metricsRequireToken: id.metrics_require_token ?? !config.metrics_public,
    async serveMtlsApi(
      handler: (req: Request, info: MtlsPeerInfo) => Response | Promise<Response>,
    ): Promise<number | null> {
      if (id.mtls_api_port === null) return null;
      mtlsApi ??= await serveMtlsHttps({
        host: config.host,
        port: id.mtls_api_port,
        svidSource: identity.svidSource,
        bundleSource: identity.bundleSource,
        authorize,
        handler,
      });
      return mtlsApi.port;
    },
    async close() {
      await mtlsApi?.close();
      await closeIdentity();
    },
  });
}

/**
 * Provisions another issuer node of an existing trust domain: copies the CA and JWT-SVID
 * signing key from an issuer's data dir and issues this node's SVID, so the replica renews its
 * own SVID without reaching the first issuer (docs/identity.md: several issuer nodes share the
 * CA key material). Used to pre-provision a whole test mesh; refuses to overwrite state.
 *
 * @param issuerDataDir data dir of an initialized issuer
 * @param dataDir data dir of the new node
 * @param options the new node's name and SVID lifetime
 * @example
 * await initIssuerIdentity(dirs[0], { trustDomain: "x0tta6bl4.mesh", nodeName: "r1" });
 * await provisionIssuerReplica(dirs[0], dirs[1], { nodeName: "r2" });
 */
export async function provisionIssuerReplica(
  issuerDataDir: string,
  dataDir: string,
  options: { nodeName: string; svidTtlMs?: number },
): Promise<void> {
  const source = await loadIdentity(issuerDataDir);
  if (!source.ca || !source.jwtKey) {
    throw new ValidationError(`Not an issuer identity: ${identityDir(issuerDataDir)}`);
  }
  if (await isIdentityInitialized(dataDir)) {
    throw new ValidationError(`Identity already initialized in ${identityDir(dataDir)}`);
  }
  const id = spiffeIdFromParts(source.state.trustDomain, "node", options.nodeName);
  await Deno.mkdir(identityDir(dataDir), { recursive: true, mode: 0o700 });
  for (const [name, mode] of [["caCert", 0o644], ["caKey", 0o600], ["jwtKey", 0o600]] as const) {
    const text = await Deno.readTextFile(identityFile(issuerDataDir, name));
    await writeFileAtomic(identityFile(dataDir, name), text, { mode });
  }
  const keys = await generateKeyPair();
  const cert = await issueX509Svid(source.ca, id.uri, {
    publicKey: keys.publicKey,
    ttlMs: options.svidTtlMs ?? DEFAULT_SVID_TTL_MS,
  });
  await saveSvid(dataDir, { id, chain: [cert], privateKey: keys.privateKey });
  await saveEndpointSvid(dataDir, await mintEndpointSvid(source.ca, options.nodeName));
  const state: IdentityState = { ...source.state, spiffeId: id.uri, issuer: true };
  await writeFileAtomic(identityFile(dataDir, "state"), JSON.stringify(state, null, 2) + "\n");
}

/**
 * Mints and stores the issuer endpoint's SVID of an initialized issuer node, so its first start
 * serves it rather than minting one (part of provisioning a node ahead of time; the endpoint
 * replaces it whenever it is not current).
 *
 * @param dataDir data dir of an initialized issuer
 * @param nodeName the node's name
 */
export async function provisionEndpointSvid(dataDir: string, nodeName: string): Promise<void> {
  const { ca } = await loadIdentity(dataDir);
  if (!ca) throw new ValidationError(`Not an issuer identity: ${identityDir(dataDir)}`);
  await saveEndpointSvid(dataDir, await mintEndpointSvid(ca, nodeName));
}
