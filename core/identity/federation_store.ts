/**
 * The last federated bundle each relationship fetched, kept in
 * `<data-dir>/identity/federated/<trust-domain>.json` with the endpoint it came from, so a
 * restarted agent keeps trusting a verified partner domain while the partner's bundle endpoint is
 * down. A stored bundle counts only for the same endpoint URL and SPIFFE ID: changing either in
 * the config starts the relationship from its initial bundle again (pending until verified).
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { errorMessage } from "../errors.ts";
import { bundleToJwks, parseJwksBundle, type TrustBundle } from "./bundle.ts";
import type { FederationConfig } from "./federation.ts";
import { identityDir, writeFileAtomic } from "./identity_store.ts";
import { parseTrustDomain } from "./spiffe_id.ts";

const log = getLogger(["x0", "identity", "federation"]);

const fileOf = (dataDir: string, trustDomain: string) =>
  `${identityDir(dataDir)}/federated/${parseTrustDomain(trustDomain)}.json`;

/**
 * Returns the verified bundle stored for this relationship, or undefined when there is none,
 * it came from another endpoint, or it cannot be read (logged).
 *
 * @param dataDir the agent's data dir
 * @param config the relationship as configured now
 */
export async function loadFederatedBundle(
  dataDir: string,
  config: Pick<FederationConfig, "trustDomain" | "bundleEndpointUrl" | "endpointSpiffeId">,
): Promise<TrustBundle | undefined> {
  const path = fileOf(dataDir, config.trustDomain);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) {
      log.warn("Cannot read {path}: {error}", { path, error: errorMessage(err) });
    }
    return undefined;
  }
  try {
    const doc = JSON.parse(text) as Record<string, unknown>;
    if (
      doc.endpoint_url !== config.bundleEndpointUrl ||
      doc.endpoint_spiffe_id !== config.endpointSpiffeId
    ) {
      return undefined;
    }
    return parseJwksBundle(config.trustDomain, doc.bundle);
  } catch (err) {
    log.warn("Ignoring stored federated bundle {path}: {error}", {
      path,
      error: errorMessage(err),
    });
    return undefined;
  }
}

/**
 * Stores a bundle just fetched and verified from the relationship's endpoint.
 *
 * @param dataDir the agent's data dir
 * @param config the relationship
 * @param bundle the verified bundle
 */
export async function saveFederatedBundle(
  dataDir: string,
  config: Pick<FederationConfig, "trustDomain" | "bundleEndpointUrl" | "endpointSpiffeId">,
  bundle: TrustBundle,
): Promise<void> {
  await Deno.mkdir(`${identityDir(dataDir)}/federated`, { recursive: true, mode: 0o700 });
  await writeFileAtomic(
    fileOf(dataDir, config.trustDomain),
    JSON.stringify(
      {
        endpoint_url: config.bundleEndpointUrl,
        endpoint_spiffe_id: config.endpointSpiffeId,
        bundle: await bundleToJwks(bundle),
      },
      null,
      2,
    ) + "\n",
  );
}
