import assert from "node:assert/strict";
import { bundleToJwks, type TrustBundle } from "../../../core/identity/bundle.ts";
import { createCa } from "../../../core/identity/ca.ts";
import {
  createFederation,
  federatedBundleSource,
  serveBundleEndpoint,
} from "../../../core/identity/federation.ts";
import { generateKeyPair } from "../../../core/identity/keys.ts";
import { staticSvidSource } from "../../../core/identity/rotation.ts";
import { parseSpiffeId } from "../../../core/identity/spiffe_id.ts";
import { issueX509Svid, type X509Svid } from "../../../core/identity/svid.ts";
import { type AuthError, ConfigError, ValidationError } from "../../../core/errors.ts";
import { testDomain } from "./fixtures.ts";

const ENDPOINT_ID = "spiffe://b.test/bundle-endpoint";

Deno.test("federation (https_spiffe): pinned endpoint ID, initial bundle, later fetches validated with the latest bundle", async (t) => {
  const a = await testDomain("a.test");
  const b = await testDomain("b.test");
  const ca2 = await createCa("b.test");
  const svidFrom = async (ca: typeof ca2, uri = ENDPOINT_ID): Promise<X509Svid> => {
    const keys = await generateKeyPair();
    const cert = await issueX509Svid(ca, uri, { publicKey: keys.publicKey });
    return { id: parseSpiffeId(uri), chain: [cert], privateKey: keys.privateKey };
  };
  const bundleOf = (certs: TrustBundle["x509Authorities"], sequence: number): TrustBundle => ({
    trustDomain: "b.test",
    x509Authorities: certs,
    jwtAuthorities: [],
    sequence,
    refreshHintSeconds: 60,
  });
  let served = bundleOf([b.ca.cert, ca2.cert], 2);
  const endpointSvid = await staticSvidSource(await svidFrom(b.ca));
  const endpoint = await serveBundleEndpoint({
    host: "127.0.0.1",
    port: 0,
    svidSource: endpointSvid,
    bundleJson: () => bundleToJwks(served),
  });
  const url = `https://127.0.0.1:${endpoint.port}/bundle`;
  try {
    const rel = createFederation({
      trustDomain: "b.test",
      bundleEndpointUrl: url,
      endpointSpiffeId: ENDPOINT_ID,
      initialBundle: b.bundle,
    });
    await t.step("first fetch is authenticated with the initial bundle", async () => {
      const got = await rel.refresh();
      assert.equal(got.sequence, 2);
      assert.equal(got.x509Authorities.length, 2);
    });
    await t.step(
      "after the remote CA rotates, the next fetch is validated with the latest bundle",
      async () => {
        await endpointSvid.set(await svidFrom(ca2));
        served = bundleOf([ca2.cert], 3);
        const got = await rel.refresh();
        assert.equal(got.sequence, 3);
        assert.equal(got.x509Authorities[0].subject, ca2.cert.subject);
      },
    );
    await t.step(
      "a relationship holding only the initial bundle cannot authenticate the rotated endpoint",
      async () => {
        const stale = createFederation({
          trustDomain: "b.test",
          bundleEndpointUrl: url,
          endpointSpiffeId: ENDPOINT_ID,
          initialBundle: b.bundle,
        });
        await assert.rejects(
          stale.refresh(),
          (e: AuthError) => e.details?.reason === "unknown_issuer",
        );
        assert.equal(stale.bundle(), b.bundle, "failed fetch changes nothing");
      },
    );
    await t.step("an endpoint presenting another SPIFFE ID is refused", async () => {
      const pinnedElsewhere = createFederation({
        trustDomain: "b.test",
        bundleEndpointUrl: url,
        endpointSpiffeId: "spiffe://b.test/someone-else",
        initialBundle: rel.bundle(),
      });
      await assert.rejects(
        pinnedElsewhere.refresh(),
        (e: AuthError) => e.details?.reason === "endpoint_id_mismatch",
      );
    });
    await t.step("an older sequence (rollback) is refused", async () => {
      served = bundleOf([ca2.cert], 1);
      await assert.rejects(rel.refresh(), ValidationError);
      assert.equal(rel.bundle().sequence, 3);
    });
    await t.step(
      "bundles stay per domain: our own domain cannot be federated, domains never merge",
      () => {
        const src = federatedBundleSource(() => a.bundle, [rel]);
        const set = src.bundles();
        assert.deepEqual([...set.keys()].sort(), ["a.test", "b.test"]);
        assert.equal(set.get("a.test")!.x509Authorities.length, 1);
        const self = createFederation({
          trustDomain: "a.test",
          bundleEndpointUrl: url,
          endpointSpiffeId: "spiffe://a.test/x",
          initialBundle: a.bundle,
        });
        assert.throws(() => federatedBundleSource(() => a.bundle, [self]), /Duplicate bundle/);
        assert.throws(
          () =>
            createFederation({
              trustDomain: "b.test",
              bundleEndpointUrl: url,
              endpointSpiffeId: "spiffe://a.test/x",
              initialBundle: b.bundle,
            }),
          ConfigError,
        );
      },
    );
  } finally {
    await endpoint.close();
  }
});
