import assert from "node:assert/strict";
import {
  consumeJoinToken,
  createJoinToken,
  hashJoinToken,
  listJoinTokens,
} from "../../../core/identity/join_tokens.ts";
import { AuthError, ValidationError } from "../../../core/errors.ts";

const ID = "spiffe://mesh.test/node/r1";

Deno.test("join tokens are single-use, expire, and are stored only hashed", async (t) => {
  const kv = await Deno.openKv(":memory:");
  try {
    await t.step("a token is consumed once; a replay is rejected", async () => {
      const created = await createJoinToken(kv, ID);
      const rec = await consumeJoinToken(kv, created.token);
      assert.equal(rec.spiffeId, ID);
      await assert.rejects(consumeJoinToken(kv, created.token), AuthError);
    });
    await t.step("concurrent consumers: exactly one wins", async () => {
      const { token } = await createJoinToken(kv, ID);
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, () => consumeJoinToken(kv, token)),
      );
      assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
    });
    await t.step("an expired token is rejected and removed", async () => {
      const { token, expiresAt } = await createJoinToken(kv, ID, { ttlMs: 1000 });
      await assert.rejects(consumeJoinToken(kv, token, { now: expiresAt }), /expired/);
      await assert.rejects(consumeJoinToken(kv, token), /unknown/);
    });
    await t.step("KV holds the SHA-256 of the token, never the token", async () => {
      const { token } = await createJoinToken(kv, ID);
      const keys: string[] = [];
      for await (const e of kv.list({ prefix: [] })) keys.push(JSON.stringify(e));
      assert.ok(keys.every((k) => !k.includes(token)));
      const hash = await hashJoinToken(token);
      assert.ok(keys.some((k) => k.includes(hash)));
      assert.ok((await listJoinTokens(kv)).length >= 1);
    });
    await t.step("bad input is refused and changes nothing", async () => {
      const before = (await listJoinTokens(kv)).length;
      await assert.rejects(createJoinToken(kv, "spiffe://mesh.test/a/", {}), ValidationError);
      await assert.rejects(createJoinToken(kv, ID, { ttlMs: 0 }), ValidationError);
      await assert.rejects(createJoinToken(kv, ID, { ttlMs: 8 * 86400_000 }), ValidationError);
      await assert.rejects(consumeJoinToken(kv, "short"), /malformed/);
      assert.equal((await listJoinTokens(kv)).length, before);
    });
  } finally {
    kv.close();
  }
});
