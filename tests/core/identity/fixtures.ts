/**
 * Test fixtures: trust domains with a CA, bundle and SVID factory.
 *
 * @module
 */
import { createCa, type TrustDomainCa } from "../../../core/identity/ca.ts";
import { bundleSetOf, type TrustBundle } from "../../../core/identity/bundle.ts";
import { generateKeyPair } from "../../../core/identity/keys.ts";
import { issueX509Svid, type X509Svid } from "../../../core/identity/svid.ts";
import { parseSpiffeId } from "../../../core/identity/spiffe_id.ts";
import type { BundleSource } from "../../../core/identity/rotation.ts";

/** A test trust domain. */
export interface TestDomain {
  ca: TrustDomainCa;
  bundle: TrustBundle;
  /** Issues an SVID for `spiffe://<td>/<path>`. */
  svid(path: string, options?: { ttlMs?: number; now?: Date }): Promise<X509Svid>;
}

/** Creates a trust domain with a fresh CA. */
export async function testDomain(trustDomain: string): Promise<TestDomain> {
  const ca = await createCa(trustDomain);
  const bundle: TrustBundle = {
    trustDomain,
    x509Authorities: [ca.cert],
    jwtAuthorities: [],
    sequence: 1,
    refreshHintSeconds: 300,
  };
  return {
    ca,
    bundle,
    async svid(path, options = {}) {
      const keys = await generateKeyPair();
      const uri = `spiffe://${trustDomain}/${path}`;
      const cert = await issueX509Svid(ca, uri, { publicKey: keys.publicKey, ...options });
      return { id: parseSpiffeId(uri), chain: [cert], privateKey: keys.privateKey };
    },
  };
}

/** A bundle source over fixed bundles. */
export function fixedBundles(...bundles: TrustBundle[]): BundleSource {
  const set = bundleSetOf(...bundles);
  return { bundles: () => set };
}
