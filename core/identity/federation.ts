/**
 * Federation with other trust domains over the SPIFFE bundle endpoint `https_spiffe` profile:
 * the relationship pins the endpoint's SPIFFE ID and starts from an initial bundle; each fetch
 * authenticates the endpoint's X.509-SVID against the latest bundle of that domain and then
 * replaces it. Each domain's bundle is kept on its own; nothing is ever merged.
 *
 * The initial bundle only authenticates the endpoint: peers of a federated domain are trusted
 * once the endpoint has answered with the pinned SPIFFE ID at least once (fail closed: a wrong
 * endpoint URL or ID shows up as refused peers at once, not as a bundle that silently goes stale
 * at the partner's next CA rotation).
 *
 * @module
 */
import https from "node:https";
import type tls from "node:tls";
import { getLogger } from "@logtape/logtape";
import {
  AuthError,
  ConfigError,
  errorMessage,
  UnavailableError,
  ValidationError,
} from "../errors.ts";
import { Counter, metric, registry } from "../telemetry/metrics.ts";
import { type BundleSet, bundleSetOf, parseJwksBundle, type TrustBundle } from "./bundle.ts";
import type { BundleSource, SvidSource } from "./rotation.ts";
import { listenRotating } from "./mtls_https.ts";
import { parseSpiffeId } from "./spiffe_id.ts";
import { validateX509Svid } from "./svid_validation.ts";

const log = getLogger(["x0", "identity", "federation"]);
const MAX_BUNDLE_BYTES = 1 << 20;

const fetches = metric(
  "x0_identity_federation_fetches_total",
  () =>
    new Counter({
      name: "x0_identity_federation_fetches_total",
      help: "Federated bundle fetches by trust domain and outcome",
      labelNames: ["trust_domain", "outcome"],
      registers: [registry],
    }),
);

/** Static description of one federation relationship (https_spiffe profile). */
export interface FederationConfig {
  /** The foreign trust domain. */
  trustDomain: string;
  /** Its bundle endpoint, `https://host:port/path`. */
  bundleEndpointUrl: string;
  /** The SPIFFE ID the endpoint must present (same trust domain). */
  endpointSpiffeId: string;
  /** The initial bundle, obtained out of band. */
  initialBundle: TrustBundle;
  /** A bundle fetched from this same endpoint before (kept on disk): trusted from the start. */
  verifiedBundle?: TrustBundle;
  /** Called after each successful fetch (to keep the bundle across restarts). */
  onVerified?: (bundle: TrustBundle) => void | Promise<void>;
  /** Request timeout in ms (default 10 000). */
  timeoutMs?: number;
}

/** A live federation relationship. */
export interface FederationRelationship {
  /** The foreign trust domain. */
  readonly trustDomain: string;
  /** The latest validated bundle (the initial one until the first successful fetch). */
  bundle(): TrustBundle;
  /** Whether a fetch from the pinned endpoint has succeeded: only then are peers trusted. */
  verified(): boolean;
  /** Fetches, authenticates and installs the current bundle; returns it. */
  refresh(): Promise<TrustBundle>;
}

/**
 * Fetches a bundle from an https_spiffe endpoint, authenticating the server with `trusted`.
 *
 * @param config the relationship description
 * @param trusted the latest bundle of the endpoint's trust domain
 */
export function fetchBundleHttpsSpiffe(
  config: Omit<FederationConfig, "initialBundle">,
  trusted: TrustBundle,
): Promise<TrustBundle> {
  const url = new URL(config.bundleEndpointUrl);
  const endpointId = parseSpiffeId(config.endpointSpiffeId);
  const td = config.trustDomain;
  return new Promise((resolve, reject) => {
    const req = https.request(url, {
      method: "GET",
      rejectUnauthorized: false,
      agent: false,
      timeout: config.timeoutMs ?? 10_000,
    }, async (res) => {
      const fail = (err: Error) => {
        res.destroy();
        reject(err);
      };
      const socket = res.socket as tls.TLSSocket;
      const chain: Uint8Array[] = [];
      // deno-lint-ignore no-explicit-any
      let c: any = socket.getPeerCertificate(true);
      const seen = new Set<string>();
      while (c?.raw && !seen.has(c.fingerprint256)) {
        seen.add(c.fingerprint256);
        chain.push(new Uint8Array(c.raw));
        c = c.issuerCertificate;
      }
      const v = await validateX509Svid(chain, bundleSetOf(trusted), {
        trustDomain: endpointId.trustDomain,
      });
      if (!v.ok) {
        return fail(
          new AuthError(`Bundle endpoint ${url} failed authentication: ${v.message}`, {
            details: { reason: v.reason },
          }),
        );
      }
      if (v.id.uri !== endpointId.uri) {
        return fail(
          new AuthError(`Bundle endpoint presented ${v.id.uri}, expected ${endpointId.uri}`, {
            details: { reason: "endpoint_id_mismatch" },
          }),
        );
      }
      if (res.statusCode !== 200) {
        return fail(new UnavailableError(`Bundle endpoint ${url} answered ${res.statusCode}`));
      }
      const parts: Uint8Array[] = [];
      let size = 0;
      res.on("data", (d: Uint8Array) => {
        size += d.length;
        if (size > MAX_BUNDLE_BYTES) fail(new ValidationError("Bundle too large: over 1 MiB"));
        else parts.push(d);
      });
      res.on("end", () => {
        try {
          const body = new Uint8Array(size);
          let off = 0;
          for (const p of parts) {
            body.set(p, off);
            off += p.length;
          }
          const text = new TextDecoder().decode(body);
          resolve(parseJwksBundle(td, text));
        } catch (err) {
          reject(err);
        }
      });
      res.on("error", (err: Error) => reject(err));
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", (err: Error) =>
      reject(
        new UnavailableError(`Cannot fetch bundle from ${url}: ${err.message}`, { cause: err }),
      ));
    req.end();
  });
}

/**
 * Starts a federation relationship; call `refresh()` on the bundle's refresh hint.
 *
 * @param config endpoint URL, pinned endpoint SPIFFE ID, initial bundle
 */
export function createFederation(config: FederationConfig): FederationRelationship {
  const endpointId = parseSpiffeId(config.endpointSpiffeId);
  if (config.initialBundle.trustDomain !== config.trustDomain) {
    throw new ConfigError(
      `Initial bundle is for ${config.initialBundle.trustDomain}, not ${config.trustDomain}`,
    );
  }
  if (endpointId.trustDomain !== config.trustDomain) {
    throw new ConfigError(
      `Endpoint SPIFFE ID ${endpointId.uri} must be in ${config.trustDomain} (its bundle authenticates it)`,
    );
  }
  if (config.verifiedBundle && config.verifiedBundle.trustDomain !== config.trustDomain) {
    throw new ConfigError(
      `Stored bundle is for ${config.verifiedBundle.trustDomain}, not ${config.trustDomain}`,
    );
  }
  let current = config.verifiedBundle ?? config.initialBundle;
  let verified = config.verifiedBundle !== undefined;
  return {
    trustDomain: config.trustDomain,
    bundle: () => current,
    verified: () => verified,
    async refresh() {
      try {
        const next = await fetchBundleHttpsSpiffe(config, current);
        if (next.x509Authorities.length === 0) {
          throw new ValidationError("Fetched bundle has no X.509 authorities");
        }
        if (next.sequence < current.sequence) {
          throw new ValidationError(
            `Fetched bundle sequence ${next.sequence} is older than ${current.sequence}`,
          );
        }
        current = next;
        verified = true;
        await Promise.resolve(config.onVerified?.(next)).catch((err) =>
          log.warn("Cannot keep the bundle of {td}: {error}", {
            td: config.trustDomain,
            error: errorMessage(err),
          })
        );
        fetches.inc({ trust_domain: config.trustDomain, outcome: "ok" });
        log.info("Federated bundle of {td} updated to sequence {seq}", {
          td: config.trustDomain,
          seq: next.sequence,
        });
        return next;
      } catch (err) {
        fetches.inc({ trust_domain: config.trustDomain, outcome: "error" });
        throw err;
      }
    },
  };
}

/**
 * A {@link BundleSource} over our own bundle plus the verified federated ones, one per domain;
 * throws if a relationship targets our own trust domain or two target the same one.
 *
 * @param local returns our own trust domain's bundle
 * @param relationships federation relationships
 * @param options `upstream`: further bundles, one per domain (the Workload API's federated
 *   bundles); a relationship may not target a domain it also supplies
 */
export function federatedBundleSource(
  local: () => TrustBundle,
  relationships: readonly FederationRelationship[],
  options: { upstream?: () => BundleSet } = {},
): BundleSource {
  const upstream = options.upstream ?? (() => new Map<string, TrustBundle>());
  const domains = [
    ...new Set([local().trustDomain, ...upstream().keys()]),
    ...relationships.map((r) => r.trustDomain),
  ];
  const dup = domains.find((td, i) => domains.indexOf(td) !== i);
  if (dup) throw new ValidationError(`Duplicate bundle for trust domain ${dup}`);
  const bundles = (): BundleSet => {
    const own = local();
    const more = [...upstream().values()].filter((b) =>
      b.trustDomain !== own.trustDomain &&
      !relationships.some((r) => r.trustDomain === b.trustDomain)
    );
    return bundleSetOf(
      own,
      ...more,
      ...relationships.filter((r) => r.verified()).map((r) => r.bundle()),
    );
  };
  return { bundles };
}

/**
 * Serves our bundle (SPIFFE bundle JSON) over HTTPS with our SVID, so other trust domains can
 * federate with us using the https_spiffe profile.
 *
 * @param options address, SVID source, and the bundle JSON producer
 */
export function serveBundleEndpoint(options: {
  host: string;
  port: number;
  svidSource: SvidSource;
  bundleJson: () => Promise<unknown> | unknown;
}): Promise<{ port: number; close(): Promise<void> }> {
  const pem = options.svidSource.tls();
  const server = https.createServer({ key: pem.key, cert: pem.cert }, async (req, res) => {
    if (req.method !== "GET") {
      res.writeHead(405, { allow: "GET" }).end();
      return;
    }
    const body = JSON.stringify(await options.bundleJson());
    res.writeHead(200, { "content-type": "application/json" }).end(body);
  });
  return listenRotating(server, options);
}
