import assert from "node:assert/strict";
import {
  loadFederatedBundle,
  saveFederatedBundle,
} from "../../../core/identity/federation_store.ts";
import { testDomain } from "./fixtures.ts";

Deno.test("federated bundles are kept per endpoint: round trip, another endpoint or a corrupt file gives none", async () => {
  const dir = await Deno.makeTempDir({ prefix: "x0-fed-store-" });
  try {
    const a = await testDomain("a.test");
    const rel = {
      trustDomain: "a.test",
      bundleEndpointUrl: "https://127.0.0.1:8443/",
      endpointSpiffeId: "spiffe://a.test/node/a",
    };
    assert.equal(await loadFederatedBundle(dir, rel), undefined, "nothing stored yet");
    await saveFederatedBundle(dir, rel, { ...a.bundle, sequence: 7 });
    const back = await loadFederatedBundle(dir, rel);
    assert.equal(back?.sequence, 7);
    assert.equal(back?.x509Authorities[0].serialNumber, a.ca.cert.serialNumber);
    assert.equal(
      await loadFederatedBundle(dir, { ...rel, endpointSpiffeId: "spiffe://a.test/node/b" }),
      undefined,
    );
    assert.equal(
      await loadFederatedBundle(dir, { ...rel, bundleEndpointUrl: "https://10.0.0.9:8443/" }),
      undefined,
    );
    await Deno.writeTextFile(`${dir}/identity/federated/a.test.json`, "{not json");
    assert.equal(await loadFederatedBundle(dir, rel), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
