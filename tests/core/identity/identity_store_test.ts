import assert from "node:assert/strict";
import {
  initIssuerIdentity,
  loadIdentity,
  writeFileAtomic,
} from "../../../core/identity/identity_store.ts";
import { NotFoundError, ValidationError } from "../../../core/errors.ts";

Deno.test("identity store: init, load round-trip, refusal to overwrite, atomic writes", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "x0-identity-store-" });
  try {
    await t.step("loading an empty data dir says it is not initialized", async () => {
      await assert.rejects(loadIdentity(dir), NotFoundError);
    });
    const created = await initIssuerIdentity(dir, { trustDomain: "mesh.test", nodeName: "n1" });
    await t.step("load returns the same CA, JWT key and SVID", async () => {
      const loaded = await loadIdentity(dir);
      assert.equal(loaded.state.spiffeId, "spiffe://mesh.test/node/n1");
      assert.equal(loaded.ca!.cert.serialNumber, created.ca!.cert.serialNumber);
      assert.equal(loaded.jwtKey!.kid, created.jwtKey!.kid);
      assert.equal(loaded.svid!.chain[0].serialNumber, created.svid!.chain[0].serialNumber);
      assert.equal(loaded.bundle!.x509Authorities.length, 1);
    });
    await t.step("a second init is refused and changes nothing", async () => {
      const before = await Deno.readTextFile(`${dir}/identity/ca.pem`);
      await assert.rejects(
        initIssuerIdentity(dir, { trustDomain: "mesh.test", nodeName: "n1" }),
        ValidationError,
      );
      assert.equal(await Deno.readTextFile(`${dir}/identity/ca.pem`), before);
    });
    await t.step("bad trust domain or node name is refused before writing", async () => {
      const other = await Deno.makeTempDir({ prefix: "x0-identity-store-bad-" });
      await assert.rejects(
        initIssuerIdentity(other, { trustDomain: "Bad.TD", nodeName: "n" }),
        ValidationError,
      );
      await assert.rejects(
        initIssuerIdentity(other, { trustDomain: "ok.td", nodeName: "a/b" }),
        ValidationError,
      );
      assert.deepEqual([...Deno.readDirSync(other)], []);
      await Deno.remove(other);
    });
    await t.step("writeFileAtomic sets the mode and leaves no temp file", async () => {
      const p = `${dir}/secret.pem`;
      await writeFileAtomic(p, "x", { mode: 0o600 });
      await writeFileAtomic(p, "y", { mode: 0o600 });
      assert.equal(await Deno.readTextFile(p), "y");
      assert.equal((await Deno.stat(p)).mode! & 0o777, 0o600);
      assert.ok(![...Deno.readDirSync(dir)].some((e) => e.name.includes(".tmp-")));
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
