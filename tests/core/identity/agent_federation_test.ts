/**
 * Federation through real agents: agent A (trust domain alpha.test) serves its bundle endpoint;
 * agent B (beta.test) is restarted with different `identity.federation` settings, and a peer
 * holding A's own SVID calls B's mTLS API (identity.mtls_api_port).
 */
import assert from "node:assert/strict";
import { authorizeMemberOf } from "../../../core/identity/authorize.ts";
import { bundleSetOf, bundleToJwks, bundleToPem } from "../../../core/identity/bundle.ts";
import { initIssuerIdentity, loadIdentity } from "../../../core/identity/identity_store.ts";
import { mtlsFetch } from "../../../core/identity/mtls_https.ts";
import { staticSvidSource } from "../../../core/identity/rotation.ts";
import { type AgentProcess, freePort, startAgentProcess } from "../../helpers/agent_process.ts";

async function waitFor(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

/** Starts an agent with `identity` settings written to a config file. */
async function agentWith(
  dataDir: string,
  nodeId: string,
  identity: Record<string, unknown>,
): Promise<AgentProcess> {
  const file = `${dataDir}.config.json`;
  await Deno.writeTextFile(
    file,
    JSON.stringify({ node_id: nodeId, identity: { issuer_port: freePort(), ...identity } }),
  );
  return await startAgentProcess(["--config", file], { dataDir });
}

Deno.test("federation through the agent: a federated peer's mTLS request is accepted only with federation configured, the right endpoint ID and the domain authorized", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "x0-agent-fed-" });
  const dirA = `${root}/a`;
  const dirB = `${root}/b`;
  await initIssuerIdentity(dirA, { trustDomain: "alpha.test", nodeName: "a" });
  await initIssuerIdentity(dirB, { trustDomain: "beta.test", nodeName: "b" });
  const a = await loadIdentity(dirA);
  const b = await loadIdentity(dirB);
  const initialBundle = `${root}/alpha.bundle.json`;
  await Deno.writeTextFile(initialBundle, JSON.stringify(await bundleToJwks(a.bundle!)));
  const bundlePort = freePort();
  const mtlsPort = freePort();
  const agentA = await agentWith(dirA, "a", {
    trust_domain: "alpha.test",
    bundle_endpoint_port: bundlePort,
  });
  let agentB: AgentProcess | undefined;
  const federation = (endpointId: string) => [{
    trust_domain: "alpha.test",
    bundle_endpoint_url: `https://127.0.0.1:${bundlePort}/`,
    endpoint_spiffe_id: endpointId,
    initial_bundle_path: initialBundle,
  }];
  const startB = async (identity: Record<string, unknown>) => {
    await agentB?.stop();
    agentB = await agentWith(dirB, "b", {
      trust_domain: "beta.test",
      mtls_api_port: mtlsPort,
      ...identity,
    });
  };
  // The peer is agent A itself: its SVID, as the running agent keeps it in its data dir.
  const callB = async () => {
    const svid = (await loadIdentity(dirA)).svid!;
    const res = await mtlsFetch(`https://127.0.0.1:${mtlsPort}/mesh/status`, {}, {
      svidSource: await staticSvidSource(svid),
      bundleSource: { bundles: () => bundleSetOf(a.bundle!, b.bundle!) },
      authorize: authorizeMemberOf("beta.test"),
    });
    return { status: res.status, body: await res.text(), server: res.peerId.uri };
  };
  const fetchOutcomes = async () => {
    const text = await fetch(`${agentB!.url}/metrics`).then((r) => r.text());
    const count = (outcome: string) =>
      Number(
        new RegExp(
          `^x0_identity_federation_fetches_total\\{trust_domain="alpha.test",outcome="${outcome}"\\} (\\d+)`,
          "m",
        ).exec(text)?.[1] ?? 0,
      );
    return { ok: count("ok"), error: count("error") };
  };
  try {
    await t.step(
      "without federation, A's SVID is refused by B (no bundle for alpha.test)",
      async () => {
        await startB({ control_allow_trust_domains: ["alpha.test"] });
        const r = await callB();
        assert.equal(r.server, "spiffe://beta.test/node/b");
        assert.equal(r.status, 401, r.body);
        assert.match(r.body, /unknown_issuer|wrong_trust_domain/);
      },
    );

    await t.step(
      "with the wrong endpoint SPIFFE ID the bundle is never fetched and A stays refused",
      async () => {
        await startB({
          control_allow_trust_domains: ["alpha.test"],
          federation: federation("spiffe://alpha.test/node/not-a"),
        });
        assert.ok(
          await waitFor(async () => (await fetchOutcomes()).error >= 2, 15_000),
          "B did not retry the refused endpoint",
        );
        assert.equal((await fetchOutcomes()).ok, 0);
        const r = await callB();
        assert.equal(r.status, 401, r.body);
      },
    );

    await t.step(
      "with the pinned endpoint ID and alpha.test authorized, A is accepted",
      async () => {
        await startB({
          control_allow_trust_domains: ["alpha.test"],
          federation: federation("spiffe://alpha.test/node/a"),
        });
        assert.ok(
          await waitFor(async () => (await callB()).status === 200, 15_000),
          "A was never accepted",
        );
        assert.ok((await fetchOutcomes()).ok >= 1);
        // Bundles stay per domain: B's own bundle is still only beta's CA.
        const pem = await fetch(`${agentB!.url}/identity/bundle?format=pem`).then((r) => r.text());
        assert.equal(pem, bundleToPem(b.bundle!));
      },
    );

    await t.step(
      "federated but not authorized (alpha.test not in control_allow_trust_domains): 403",
      async () => {
        await startB({ federation: federation("spiffe://alpha.test/node/a") });
        assert.ok(
          await waitFor(async () => (await fetchOutcomes()).ok >= 1, 15_000),
          "B never fetched alpha's bundle",
        );
        const r = await callB();
        assert.equal(r.status, 403, r.body);
        assert.match(r.body, /unauthorized/);
      },
    );

    await t.step(
      "restarted while A's bundle endpoint is down, B still accepts A (the verified bundle was kept)",
      async () => {
        await agentA.stop();
        await startB({
          control_allow_trust_domains: ["alpha.test"],
          federation: federation("spiffe://alpha.test/node/a"),
        });
        const r = await callB();
        assert.equal(r.status, 200, r.body);
        const kept = JSON.parse(
          await Deno.readTextFile(`${dirB}/identity/federated/alpha.test.json`),
        );
        assert.equal(kept.endpoint_spiffe_id, "spiffe://alpha.test/node/a");
      },
    );

    await t.step(
      "a kept bundle does not count for another endpoint ID: refused again",
      async () => {
        await startB({
          control_allow_trust_domains: ["alpha.test"],
          federation: federation("spiffe://alpha.test/node/not-a"),
        });
        const r = await callB();
        assert.equal(r.status, 401, r.body);
      },
    );
  } finally {
    await agentB?.stop();
    await agentA.stop();
    await Deno.remove(root, { recursive: true });
  }
});
