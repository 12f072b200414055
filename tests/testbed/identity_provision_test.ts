import assert from "node:assert/strict";
import { loadIdentity } from "../../core/identity/identity_store.ts";
import { bundleSetOf } from "../../core/identity/bundle.ts";
import { validateX509Svid } from "../../core/identity/svid_validation.ts";
import { provisionIdentities, TESTBED_TRUST_DOMAIN, wantsIdentity } from "./identity_provision.ts";

Deno.test("testbed identity: on by default, off only when identity or mesh_mtls is off", () => {
  const cases: [Record<string, unknown> | undefined, boolean][] = [
    [undefined, true],
    [{}, true],
    [{ identity: {} }, true],
    [{ identity: { mesh_mtls: true } }, true],
    [{ identity: { trust_domain: "lab.test" } }, true],
    [{ identity: { mesh_mtls: false } }, false],
    [{ identity: { enabled: false } }, false],
    [{ identity: { enabled: false, mesh_mtls: true } }, false],
  ];
  for (const [config, want] of cases) {
    assert.equal(wantsIdentity(config), want, JSON.stringify(config));
  }
});

Deno.test("provisionIdentities() gives every router an SVID of one CA, once", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "x0-tb-identity-" });
  const routers = [{ name: "r1" }, { name: "r2" }, { name: "r3" }];
  try {
    await t.step("one trust domain, one CA, each router its own /node ID", async () => {
      await provisionIdentities({ dir, routers });
      const ids = await Promise.all(routers.map((r) => loadIdentity(`${dir}/${r.name}/data`)));
      const trusted = bundleSetOf(ids[0].bundle!);
      for (const [i, id] of ids.entries()) {
        assert.equal(id.state.trustDomain, TESTBED_TRUST_DOMAIN);
        const v = await validateX509Svid(id.svid!.chain, trusted);
        assert.equal(v.ok && v.id.uri, `spiffe://${TESTBED_TRUST_DOMAIN}/node/${routers[i].name}`);
        assert.ok(id.ca, `${routers[i].name} holds the CA (renews itself)`);
      }
    });
    await t.step("a second call changes nothing", async () => {
      const before = (await loadIdentity(`${dir}/r2/data`)).svid!.chain[0].serialNumber;
      await provisionIdentities({ dir, routers });
      const after = (await loadIdentity(`${dir}/r2/data`)).svid!.chain[0].serialNumber;
      assert.equal(after, before);
    });
    await t.step("the config's trust domain is used", async () => {
      const other = `${dir}/other`;
      await provisionIdentities({
        dir: other,
        routers: routers.slice(0, 2),
        config: { identity: { trust_domain: "lab.test" } },
      });
      assert.equal(
        (await loadIdentity(`${other}/r2/data`)).svid!.id.uri,
        "spiffe://lab.test/node/r2",
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
