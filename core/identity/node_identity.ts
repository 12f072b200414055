/**
 * The agent's identity in one object: where its X.509-SVID comes from (built-in issuer, a
 * member's renewals at the issuer, or the SPIFFE Workload API when `SPIFFE_ENDPOINT_SOCKET` is
 * set), the bundles it trusts (its own domain plus federated ones, never merged), rotation at
 * half-life, and the API token verifier. The mesh agent hands `svidSource` and `bundleSource`
 * to the mTLS transport.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { ConfigError, errorMessage, NotFoundError, UnavailableError } from "../errors.ts";
import { type BundleSet, bundleToJwks, type TrustBundle } from "./bundle.ts";
import {
  createFederation,
  federatedBundleSource,
  type FederationConfig,
  type FederationRelationship,
  serveBundleEndpoint,
} from "./federation.ts";
import {
  initIssuerIdentity,
  initMemberIdentity,
  isIdentityInitialized,
  type LoadedIdentity,
  loadEndpointSvid,
  loadIdentity,
  openIdentityKv,
  saveBundle,
  saveEndpointSvid,
  saveSvid,
} from "./identity_store.ts";
import { type BuiltinIssuer, createBuiltinIssuer } from "./issuer.ts";
import { loadFederatedBundle, saveFederatedBundle } from "./federation_store.ts";
import { serveIssuerEndpoint } from "./issuer_endpoint.ts";
import { attestWithJoinToken, renewWithIssuer } from "./join_client.ts";
import { createTokenVerifier, type TokenVerifier } from "./jwt.ts";
import { generateKeyPair } from "./keys.ts";
import { type BundleSource, rotatingSvidSource, type SvidSource } from "./rotation.ts";
import { parseTrustDomain } from "./spiffe_id.ts";
import type { X509Svid } from "./svid.ts";
import { parseEndpointSocket, workloadApiSources } from "./workload_api.ts";

const log = getLogger(["x0", "identity"]);

/** How the node gets its identity; mirrors the proposed `identity` config section. */
export interface NodeIdentityConfig {
  /** Data directory; identity state lives in `<dataDir>/identity`. */
  dataDir: string;
  /** The trust domain this node belongs to. */
  trustDomain: string;
  /** This node's name: its SPIFFE ID is `spiffe://<td>/node/<nodeName>`. */
  nodeName: string;
  /** `issuer` holds the CA; `member` attests and renews at `issuerUrl`. */
  role: "issuer" | "member";
  /** SVID lifetime on issuer nodes (default 1 h). */
  svidTtlMs?: number;
  /** The issuer's TLS endpoint, `https://host:port` (members attest and renew there). */
  issuerUrl?: string;
  /** One-time join token for the first start of a member. */
  joinToken?: string;
  /** Hex SHA-256 of the trust-domain CA: the issuer must present it (required to join). */
  caSha256?: string;
  /** `SPIFFE_ENDPOINT_SOCKET`; when set the Workload API supplies SVID and bundles. */
  spiffeEndpointSocket?: string;
  /** Audience API tokens must carry. */
  apiAudience: string;
  /** Federation relationships. */
  federation?: FederationConfig[];
  /** Serve our bundle for other trust domains (https_spiffe) on this address. */
  bundleEndpoint?: { host: string; port: number };
  /**
   * On issuer nodes, serve the issuer's TLS endpoint (attest, renew) on this address; with
   * `optional` (a derived default port) a port in use is logged and the node runs without it.
   */
  issuerEndpoint?: { host: string; port: number; optional?: boolean };
}

/** A running node identity. */
export interface NodeIdentity {
  /** Our SVID (rotates). */
  readonly svidSource: SvidSource;
  /** Our bundle plus federated bundles. */
  readonly bundleSource: BundleSource;
  /** Our own trust domain's bundle (served at /identity/bundle). */
  localBundle(): TrustBundle;
  /** API bearer token verifier (JWT-SVIDs of our trust domain). */
  readonly verifier: TokenVerifier;
  /** The built-in issuer, on issuer nodes. */
  readonly issuer?: BuiltinIssuer;
  /** Port of our https_spiffe bundle endpoint, when serving one. */
  readonly bundleEndpointPort?: number;
  /** Port of the issuer's TLS endpoint (attest, renew), on issuer nodes serving one. */
  readonly issuerEndpointPort?: number;
  /** Renews the SVID now (built-in modes; undefined with the Workload API). */
  readonly rotateNow?: () => Promise<X509Svid>;
  /** Stops rotation, federation refreshes and the Workload API stream; closes KV. */
  close(): Promise<void>;
}

async function loadOrCreate(config: NodeIdentityConfig): Promise<LoadedIdentity> {
  if (await isIdentityInitialized(config.dataDir)) {
    const loaded = await loadIdentity(config.dataDir);
    if (loaded.state.trustDomain !== config.trustDomain) {
      throw new ConfigError(
        `identity.trust_domain is ${config.trustDomain} but ${config.dataDir}/identity belongs to ${loaded.state.trustDomain}`,
      );
    }
    return loaded;
  }
  if (config.role === "issuer") {
    log.info("Creating trust domain CA for {td}", { td: config.trustDomain });
    return await initIssuerIdentity(config.dataDir, {
      trustDomain: config.trustDomain,
      nodeName: config.nodeName,
      svidTtlMs: config.svidTtlMs,
    });
  }
  if (!config.issuerUrl || !config.joinToken) {
    throw new NotFoundError(
      "Identity not initialized: a member needs identity.issuer_url and a join token (identity join)",
    );
  }
  if (!config.caSha256) {
    throw new ConfigError(
      "Joining with a token needs identity.ca_sha256: the issuer is authenticated by its pinned CA",
    );
  }
  const obtained = await attestWithJoinToken(config.issuerUrl, config.joinToken, {
    caSha256: config.caSha256,
    trustDomain: config.trustDomain,
  });
  if (obtained.svid.id.trustDomain !== config.trustDomain) {
    throw new ConfigError(`Issuer certified ${obtained.svid.id.uri}, not in ${config.trustDomain}`);
  }
  return await initMemberIdentity(config.dataDir, obtained);
}

/**
 * Starts the node's identity per `config` and keeps it fresh.
 *
 * @param config the identity configuration
 */
export async function startNodeIdentity(config: NodeIdentityConfig): Promise<NodeIdentity> {
  parseTrustDomain(config.trustDomain);
  // A bundle verified before (same endpoint) is trusted at once, so a restart does not depend on
  // the partner's endpoint being up; each new one is kept.
  const rels: FederationRelationship[] = [];
  for (const f of config.federation ?? []) {
    rels.push(createFederation({
      ...f,
      verifiedBundle: f.verifiedBundle ?? await loadFederatedBundle(config.dataDir, f),
      onVerified: (b) => saveFederatedBundle(config.dataDir, f, b),
    }));
  }
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const closers: (() => void | Promise<void>)[] = [];
  let local: () => TrustBundle;
  let upstream: (() => BundleSet) | undefined;
  let svidSource: SvidSource;
  let issuer: BuiltinIssuer | undefined;
  let rotateNow: (() => Promise<X509Svid>) | undefined;
  let closed = false;

  if (config.spiffeEndpointSocket) {
    const wl = await workloadApiSources(parseEndpointSocket(config.spiffeEndpointSocket));
    closers.push(() => wl.close());
    svidSource = wl.svidSource;
    const wlDomain = svidSource.current().id.trustDomain;
    if (wlDomain !== config.trustDomain) {
      wl.close();
      throw new ConfigError(
        `The Workload API gave an SVID of ${wlDomain} but identity.trust_domain is ${config.trustDomain}`,
      );
    }
    upstream = () => wl.bundleSource.bundles();
    local = () => {
      const b = wl.bundleSource.bundles().get(svidSource.current().id.trustDomain);
      if (!b) throw new NotFoundError("Workload API sent no bundle for our trust domain");
      return b;
    };
    log.info("Identity from the SPIFFE Workload API: {id}", { id: svidSource.current().id.uri });
  } else {
    const loaded = await loadOrCreate(config);
    if (!loaded.svid || !loaded.bundle) {
      throw new NotFoundError(`Identity in ${config.dataDir}/identity lacks an SVID or bundle`);
    }
    let bundle = loaded.bundle;
    local = () => bundle;
    let renew: (cur: X509Svid) => Promise<X509Svid>;
    if (loaded.ca && loaded.jwtKey) {
      const kv = await openIdentityKv(config.dataDir);
      closers.push(() => kv.close());
      issuer = createBuiltinIssuer({
        ca: loaded.ca,
        jwtKey: loaded.jwtKey,
        kv,
        svidTtlMs: config.svidTtlMs,
        sequence: loaded.state.bundleSequence,
      });
      const iss = issuer;
      renew = async (cur) => {
        const keys = await generateKeyPair();
        const cert = await iss.issue(cur.id.uri, keys.publicKey);
        return { id: cur.id, chain: [cert], privateKey: keys.privateKey };
      };
    } else {
      if (!config.issuerUrl) throw new ConfigError("identity.issuer_url is required on members");
      const url = config.issuerUrl;
      renew = async (cur) => {
        const got = await renewWithIssuer(url, cur, bundle);
        if (got.bundle.sequence >= bundle.sequence) {
          bundle = got.bundle;
          await saveBundle(config.dataDir, bundle);
        }
        return got.svid;
      };
    }
    const rotating = await rotatingSvidSource(loaded.svid, {
      renew,
      onRotate: (s) => saveSvid(config.dataDir, s),
    });
    closers.push(() => rotating.stop());
    svidSource = rotating;
    rotateNow = () => rotating.rotateNow();
  }

  // With the Workload API its federated bundles count too (each domain once, never merged).
  const bundleSource = federatedBundleSource(local, rels, { upstream });
  // Refresh on the bundle's hint; until a relationship's endpoint has answered once (its peers
  // are refused meanwhile) retry from 2 s, doubling up to the hint.
  const refresh = (rel: FederationRelationship, pendingDelayS = 2) => {
    rel.refresh().catch((err) =>
      log.warn("Federation refresh of {td} failed: {error}", {
        td: rel.trustDomain,
        error: errorMessage(err),
      })
    ).finally(() => {
      if (closed) return;
      const hint = Math.max(30, rel.bundle().refreshHintSeconds);
      const delayS = rel.verified() ? hint : Math.min(pendingDelayS, hint);
      const t = setTimeout(() => {
        timers.delete(t);
        refresh(rel, delayS * 2);
      }, delayS * 1000);
      timers.add(t);
    });
  };
  for (const rel of rels) refresh(rel);
  let bundleEndpointPort: number | undefined;
  let issuerEndpointPort: number | undefined;
  try {
    if (config.bundleEndpoint) {
      const ep = await serveBundleEndpoint({
        ...config.bundleEndpoint,
        svidSource,
        bundleJson: () => bundleToJwks(local()),
      });
      closers.push(() => ep.close());
      bundleEndpointPort = ep.port;
    }
    if (issuer && config.issuerEndpoint) {
      const { host, port, optional } = config.issuerEndpoint;
      const ep = await serveIssuerEndpoint({
        host,
        port,
        issuer,
        nodeName: config.nodeName,
        store: {
          load: () => loadEndpointSvid(config.dataDir),
          save: (svid) => saveEndpointSvid(config.dataDir, svid),
        },
      })
        .catch((err) => {
          if (!optional || !(err instanceof UnavailableError)) throw err;
          log.warn(
            "Issuer endpoint not served: {error}; members cannot join or renew here (set identity.issuer_port)",
            { error: errorMessage(err) },
          );
          return null;
        });
      if (ep) {
        closers.push(() => ep.close());
        issuerEndpointPort = ep.port;
      }
    }
  } catch (err) {
    closed = true;
    for (const t of timers) clearTimeout(t);
    for (const c of closers.reverse()) await c();
    throw err;
  }
  return {
    bundleEndpointPort,
    issuerEndpointPort,
    svidSource,
    bundleSource,
    localBundle: () => local(),
    verifier: createTokenVerifier(() => bundleSource.bundles(), {
      audience: config.apiAudience,
      trustDomain: local().trustDomain,
    }),
    issuer,
    rotateNow,
    async close() {
      if (closed) return;
      closed = true;
      for (const t of timers) clearTimeout(t);
      for (const c of closers.reverse()) await c();
    },
  };
}
