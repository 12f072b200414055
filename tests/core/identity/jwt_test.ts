import assert from "node:assert/strict";
import * as jose from "jose";
import { bundleSetOf } from "../../../core/identity/bundle.ts";
import { generateKeyPair } from "../../../core/identity/keys.ts";
import { jwtSigningKey, mintJwtSvid, verifyJwtSvid } from "../../../core/identity/jwt.ts";
import { type Scope, scopeSatisfies } from "../../../core/identity/scopes.ts";
import { AuthError, ValidationError } from "../../../core/errors.ts";
import { testDomain } from "./fixtures.ts";

const AUD = "x0tta6bl4-api";
const SUB = "spiffe://mesh.test/operator/alice";
const b64u = (o: unknown) =>
  btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");

Deno.test("verifyJwtSvid() accepts good JWT-SVIDs and rejects every bad one", async (t) => {
  const mesh = await testDomain("mesh.test");
  const key = await jwtSigningKey(await generateKeyPair());
  const bundles = bundleSetOf({ ...mesh.bundle, jwtAuthorities: [key.authority] });
  const verify = (tok: string) => verifyJwtSvid(tok, bundles, { audience: AUD });
  const now = Math.floor(Date.now() / 1000);
  const signRaw = (claims: jose.JWTPayload, header: jose.JWTHeaderParameters) =>
    new jose.SignJWT(claims).setProtectedHeader(header).sign(key.privateKey);

  await t.step("a minted token verifies with sub, scopes and exp", async () => {
    const tok = await mintJwtSvid(key, { sub: SUB, aud: AUD, scopes: ["operate"] });
    const p = await verify(tok);
    assert.equal(p.id.uri, SUB);
    assert.deepEqual(p.scopes, ["operate"]);
    assert.ok(p.exp > now);
  });
  const bad: [string, () => Promise<string>, RegExp][] = [
    [
      "alg none",
      () =>
        Promise.resolve(
          `${b64u({ alg: "none", kid: key.kid })}.${b64u({ sub: SUB, aud: AUD, exp: now + 60 })}.`,
        ),
      /algorithm none/,
    ],
    [
      "HS256",
      async () =>
        await new jose.SignJWT({ sub: SUB, aud: AUD, exp: now + 60 }).setProtectedHeader({
          alg: "HS256",
          kid: key.kid,
        })
          .sign(new TextEncoder().encode("a shared secret of at least 32 bytes!!")),
      /algorithm HS256/,
    ],
    [
      "wrong aud",
      () => mintJwtSvid(key, { sub: SUB, aud: "someone-else", scopes: ["read"] }),
      /aud/,
    ],
    [
      "past exp",
      () => signRaw({ sub: SUB, aud: AUD, exp: now - 3600 }, { alg: "ES256", kid: key.kid }),
      /expired/,
    ],
    ["missing exp", () => signRaw({ sub: SUB, aud: AUD }, { alg: "ES256", kid: key.kid }), /exp/],
    ["missing kid", () => signRaw({ sub: SUB, aud: AUD, exp: now + 60 }, { alg: "ES256" }), /kid/],
    [
      "unknown kid",
      () => signRaw({ sub: SUB, aud: AUD, exp: now + 60 }, { alg: "ES256", kid: "nope" }),
      /no JWT authority/,
    ],
    [
      "sub not a SPIFFE ID",
      () => signRaw({ sub: "alice", aud: AUD, exp: now + 60 }, { alg: "ES256", kid: key.kid }),
      /SPIFFE/,
    ],
    [
      "sub of an untrusted domain",
      () =>
        signRaw({ sub: "spiffe://evil.test/x", aud: AUD, exp: now + 60 }, {
          alg: "ES256",
          kid: key.kid,
        }),
      /no JWT authority/,
    ],
    ["forged signature", async () => {
      const other = await jwtSigningKey(await generateKeyPair());
      return await new jose.SignJWT({ sub: SUB, aud: AUD, exp: now + 60 }).setProtectedHeader({
        alg: "ES256",
        kid: key.kid,
      }).sign(other.privateKey);
    }, /signature/],
    ["not a JWT", () => Promise.resolve("garbage"), /JWS/],
  ];
  for (const [name, make, why] of bad) {
    await t.step(`${name} is rejected`, async () => {
      const tok = await make();
      await assert.rejects(verify(tok), (e: unknown) => {
        assert.ok(e instanceof AuthError, String(e));
        assert.match(e.message, why);
        return true;
      });
    });
  }
  await t.step("minting refuses bad scopes, audiences and subjects", async () => {
    await assert.rejects(
      mintJwtSvid(key, { sub: SUB, aud: AUD, scopes: ["root" as unknown as Scope] }),
      ValidationError,
    );
    await assert.rejects(
      mintJwtSvid(key, { sub: SUB, aud: "", scopes: ["read"] }),
      ValidationError,
    );
    await assert.rejects(
      mintJwtSvid(key, { sub: "alice", aud: AUD, scopes: ["read"] }),
      ValidationError,
    );
  });
});

Deno.test("scopeSatisfies(): admin ⊇ operate ⊇ read", () => {
  assert.ok(scopeSatisfies(["admin"], "read"));
  assert.ok(scopeSatisfies(["admin"], "operate"));
  assert.ok(scopeSatisfies(["operate"], "read"));
  assert.ok(!scopeSatisfies(["read"], "operate"));
  assert.ok(!scopeSatisfies(["operate"], "admin"));
  assert.ok(!scopeSatisfies([], "read"));
});
