/**
 * Identity for the netns testbed: by default every router agent gets an SVID of one trust
 * domain, so the mesh control channel between them is mutual TLS ("mTLS everywhere between
 * agents"), as it is for any operator-built mesh. The first router's data dir gets a new CA; the
 * others become issuer replicas sharing it (`provisionIssuerReplica`), so each agent renews its
 * own SVID for as long as the testbed lives and no router depends on another to stay certified.
 *
 * A caller opts out with `config: {identity: {enabled: false}}` (plain TCP, open API) or
 * `config: {identity: {mesh_mtls: false}}` (plain-TCP control channel).
 *
 * @module
 */
import {
  provisionEndpointSvid,
  provisionIssuerReplica,
} from "../../core/identity/agent_identity.ts";
import { initIssuerIdentity, isIdentityInitialized } from "../../core/identity/identity_store.ts";

/** The trust domain routers get unless the caller's config names one (the agents' default). */
export const TESTBED_TRUST_DOMAIN = "x0tta6bl4.mesh";

/** What provisioning needs from a testbed's state (a structural subset of `TestbedState`). */
export interface ProvisionTarget {
  /** The testbed's state directory; router data dirs are `<dir>/<router>/data`. */
  dir: string;
  /** The routers, the first becomes the CA's first holder. */
  routers: readonly { name: string }[];
  /** The agents' shared config sections (`identity` is read). */
  config?: Record<string, unknown>;
}

type IdentitySection = { enabled?: boolean; mesh_mtls?: boolean; trust_domain?: string };

const identityOf = (config?: Record<string, unknown>): IdentitySection =>
  (config?.identity ?? {}) as IdentitySection;

/**
 * Whether the testbed's agents run with identity and an mTLS control channel: yes unless the
 * caller's config turns either off.
 *
 * @param config the agents' shared config sections
 */
export function wantsIdentity(config?: Record<string, unknown>): boolean {
  const id = identityOf(config);
  return id.enabled !== false && id.mesh_mtls !== false;
}

/**
 * Gives every router an SVID of one trust domain (`identity.trust_domain` of the config, else
 * {@link TESTBED_TRUST_DOMAIN}); routers already provisioned are left alone, so calling it again
 * (e.g. before restarting agents) is harmless.
 *
 * @param state the testbed's directory, routers and shared config
 */
export async function provisionIdentities(state: ProvisionTarget): Promise<void> {
  const dataOf = (r: { name: string }) => `${state.dir}/${r.name}/data`;
  const [first, ...rest] = state.routers;
  if (!first) return;
  if (!await isIdentityInitialized(dataOf(first))) {
    await initIssuerIdentity(dataOf(first), {
      trustDomain: identityOf(state.config).trust_domain ?? TESTBED_TRUST_DOMAIN,
      nodeName: first.name,
    });
    // As the replicas get theirs: every router starts serving its issuer endpoint at once.
    await provisionEndpointSvid(dataOf(first), first.name);
  }
  for (const r of rest) {
    if (await isIdentityInitialized(dataOf(r))) continue;
    await provisionIssuerReplica(dataOf(first), dataOf(r), { nodeName: r.name });
  }
}
