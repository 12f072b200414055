import assert from "node:assert/strict";
import { testLiveness } from "../../native/build.ts";
import { ensureLivenessBinary } from "../../native/ensure_built.ts";
import { seededRandom } from "../../core/random/seeded_random.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

async function helper(args: string[]): Promise<string> {
  const bin = await ensureLivenessBinary();
  const out = await new Deno.Command(bin, { args, stdout: "piped", stderr: "piped" }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test("the helper's Rust unit tests pass (SHA-256/HMAC vectors, parser fuzz, state machine)", async () => {
  const r = await testLiveness();
  assert.ok(r.ok, r.output);
  assert.match(r.output, /test result: ok\. (\d+) passed; 0 failed/);
});

Deno.test("the helper's SHA-256 and HMAC-SHA-256 equal WebCrypto's on random inputs", async (t) => {
  const rand = seededRandom(4);
  const bytes = (n: number) => new Uint8Array(Array.from({ length: n }, () => (rand() * 256) | 0));
  await t.step("SHA-256 at lengths around the block boundaries", async () => {
    for (const len of [0, 1, 3, 55, 56, 57, 63, 64, 65, 127, 128, 129, 1000]) {
      const msg = bytes(len);
      const want = hex(new Uint8Array(await crypto.subtle.digest("SHA-256", msg)));
      assert.equal(await helper(["sha256", hex(msg)]), want, `length ${len}`);
    }
  });
  await t.step("HMAC with short, block-sized and long keys", async () => {
    for (const keyLen of [1, 16, 32, 63, 64, 65, 131]) {
      const key = bytes(keyLen);
      const msg = bytes((rand() * 200) | 0);
      const k = await crypto.subtle.importKey(
        "raw",
        key,
        { name: "HMAC", hash: "SHA-256" },
        false,
        ["sign"],
      );
      const want = hex(new Uint8Array(await crypto.subtle.sign("HMAC", k, msg)));
      assert.equal(await helper(["hmac", hex(key), hex(msg)]), want, `key length ${keyLen}`);
    }
  });
});
