import assert from "node:assert/strict";
import { configSchema, defaultConfig } from "../../../core/config/schema.ts";
import {
  controlAuthorizer,
  provisionEndpointSvid,
  provisionIssuerReplica,
  startAgentIdentity,
} from "../../../core/identity/agent_identity.ts";
import { bundleSetOf } from "../../../core/identity/bundle.ts";
import {
  initIssuerIdentity,
  loadEndpointSvid,
  loadIdentity,
} from "../../../core/identity/identity_store.ts";
import { parseSpiffeId } from "../../../core/identity/spiffe_id.ts";
import { validateX509Svid } from "../../../core/identity/svid_validation.ts";
import { UnavailableError, ValidationError } from "../../../core/errors.ts";

const identityConfig = (over: Record<string, unknown> = {}) => ({
  ...defaultConfig().identity,
  ...over,
});

/** Reference: segment-wise prefix match in any listed domain, or an exact ID. */
function reference(
  uri: string,
  opts: { domains: string[]; prefix: string; ids: string[] },
): boolean {
  if (opts.ids.includes(uri)) return true;
  const m = /^spiffe:\/\/([^/]+)(\/.*)?$/.exec(uri)!;
  const path = m[2] ?? "";
  const prefix = opts.prefix.replace(/\/+$/, "");
  return opts.domains.includes(m[1]) &&
    (prefix === "" || path === prefix || path.startsWith(prefix + "/"));
}

Deno.test("controlAuthorizer() admits exactly what the identity config allows", async (t) => {
  const ids = [
    "spiffe://x0tta6bl4.mesh/node/r1",
    "spiffe://x0tta6bl4.mesh/node",
    "spiffe://x0tta6bl4.mesh/nodes/r1",
    "spiffe://x0tta6bl4.mesh/operator/cli",
    "spiffe://x0tta6bl4.mesh/node/r1/extra",
    "spiffe://other.mesh/node/r2",
    "spiffe://other.mesh/svc/api",
    "spiffe://evil.example/node/r1",
  ];
  const cases = [
    { prefix: "/node", domains: [], ids: [] },
    { prefix: "/node", domains: ["other.mesh"], ids: [] },
    { prefix: "/node", domains: [], ids: ["spiffe://other.mesh/svc/api"] },
    { prefix: "/", domains: [], ids: [] },
    { prefix: "/node/r1", domains: ["other.mesh"], ids: [] },
  ];
  for (const c of cases) {
    await t.step(`prefix ${c.prefix}, domains [${c.domains}], ids [${c.ids}]`, () => {
      const authorize = controlAuthorizer(identityConfig({
        control_allow_path_prefix: c.prefix,
        control_allow_trust_domains: c.domains,
        control_allow_ids: c.ids,
      }));
      for (const uri of ids) {
        const want = reference(uri, {
          domains: ["x0tta6bl4.mesh", ...c.domains],
          prefix: c.prefix,
          ids: c.ids,
        });
        assert.equal(authorize(parseSpiffeId(uri)), want, uri);
      }
    });
  }
});

Deno.test("provisionIssuerReplica() gives another node an SVID of the same CA, and refuses to overwrite", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "x0-replica-" });
  try {
    const first = `${dir}/a`, second = `${dir}/b`, member = `${dir}/m`;
    const issuer = await initIssuerIdentity(first, { trustDomain: "t.mesh", nodeName: "a" });
    await t.step("the replica's SVID validates against the first issuer's bundle", async () => {
      await provisionIssuerReplica(first, second, { nodeName: "b" });
      const replica = await loadIdentity(second);
      assert.equal(replica.state.spiffeId, "spiffe://t.mesh/node/b");
      assert.equal(replica.state.issuer, true);
      assert.equal(
        replica.ca!.cert.toString("pem"),
        issuer.ca!.cert.toString("pem"),
      );
      const verdict = await validateX509Svid(replica.svid!.chain, bundleSetOf(issuer.bundle!), {
        trustDomain: "t.mesh",
      });
      assert.equal(verdict.ok, true, JSON.stringify(verdict));
      const mode = (await Deno.stat(`${second}/identity/ca.key.pem`)).mode! & 0o777;
      assert.equal(mode, 0o600);
    });
    await t.step(
      "the replica's issuer endpoint SVID is provisioned too, as is the first's",
      async () => {
        const endpoint = await loadEndpointSvid(second);
        assert.equal(endpoint?.id.uri, "spiffe://t.mesh/issuer/b");
        assert.equal(endpoint.chain[1].serialNumber, issuer.ca!.cert.serialNumber);
        assert.equal(await loadEndpointSvid(first), null);
        await provisionEndpointSvid(first, "a");
        assert.equal((await loadEndpointSvid(first))?.id.uri, "spiffe://t.mesh/issuer/a");
      },
    );
    await t.step("an initialized target is refused and left as it was", async () => {
      const before = await Deno.readTextFile(`${second}/identity/svid.pem`);
      await assert.rejects(
        () => provisionIssuerReplica(first, second, { nodeName: "c" }),
        ValidationError,
      );
      assert.equal(await Deno.readTextFile(`${second}/identity/svid.pem`), before);
    });
    await t.step("a source without a CA is refused", async () => {
      await Deno.mkdir(`${member}/identity`, { recursive: true });
      await Deno.writeTextFile(
        `${member}/identity/state.json`,
        JSON.stringify({
          trustDomain: "t.mesh",
          spiffeId: "spiffe://t.mesh/node/m",
          bundleSequence: 1,
          issuer: false,
        }),
      );
      await assert.rejects(
        () => provisionIssuerReplica(member, `${dir}/x`, { nodeName: "x" }),
        ValidationError,
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the identity config section rejects bad values and defaults to a single issuer", async (t) => {
  await t.step("defaults", () => {
    const id = configSchema.parse({}).identity;
    assert.equal(id.enabled, true);
    assert.equal(id.role, "issuer");
    assert.equal(id.trust_domain, "x0tta6bl4.mesh");
    assert.equal(id.mesh_mtls, true);
    assert.equal(id.metrics_require_token, null);
    assert.equal(id.issuer_port, null);
    assert.equal(id.mtls_api_port, null);
  });
  for (
    const bad of [
      { trust_domain: "Upper.Case" },
      { trust_domain: "" },
      { role: "leader" },
      { node_name: ".." },
      { node_name: "a/b" },
      { svid_ttl_s: 10 },
      { ca_sha256: "abc" },
      { issuer_url: "not a url" },
      { issuer_url: "http://10.0.0.1:8081" },
      { issuer_port: 70000 },
      { mtls_api_port: -1 },
      {
        federation: [{
          trust_domain: "a.test",
          bundle_endpoint_url: "http://10.0.0.1:8443/",
          endpoint_spiffe_id: "spiffe://a.test/node/a",
          initial_bundle_path: "/x",
        }],
      },
      { control_allow_path_prefix: "node" },
      { control_allow_ids: ["https://x"] },
      { unknown_key: 1 },
    ]
  ) {
    await t.step(`rejects ${JSON.stringify(bad)}`, () => {
      assert.equal(configSchema.safeParse({ identity: bad }).success, false);
    });
  }
});

Deno.test("startAgentIdentity() serves the issuer endpoint on the API port + 1 unless configured; a taken default port is survivable, a taken configured one is not", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "x0-agent-identity-" });
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const busyPort = (busy.addr as Deno.NetAddr).port;
  const configFor = (dir: string, over: Record<string, unknown>) =>
    configSchema.parse({ host: "127.0.0.1", data_dir: `${root}/${dir}`, ...over });
  try {
    await t.step("the default is the API port + 1", async () => {
      const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const apiPort = (probe.addr as Deno.NetAddr).port;
      probe.close();
      const id = await startAgentIdentity(configFor("a", { port: apiPort - 1 }), "a");
      try {
        assert.equal(id.issuerEndpointPort, apiPort);
      } finally {
        await id.close();
      }
    });
    await t.step("a taken derived port: the agent runs without the endpoint", async () => {
      const id = await startAgentIdentity(configFor("b", { port: busyPort - 1 }), "b");
      try {
        assert.equal(id.issuerEndpointPort, undefined);
        assert.equal(id.svidSource.current().id.uri, "spiffe://x0tta6bl4.mesh/node/b");
      } finally {
        await id.close();
      }
    });
    await t.step("a taken configured port: the start fails and says which", async () => {
      await assert.rejects(
        startAgentIdentity(configFor("c", { identity: { issuer_port: busyPort } }), "c"),
        (e: unknown) => e instanceof UnavailableError && e.message.includes(String(busyPort)),
      );
    });
  } finally {
    busy.close();
    await Deno.remove(root, { recursive: true });
  }
});
