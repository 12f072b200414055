import assert from "node:assert/strict";
import {
  isSpiffeId,
  parsePathSegment,
  parseSpiffeId,
  SpiffeIdError,
  spiffeIdFromParts,
  type SpiffeIdRule,
} from "../../../core/identity/spiffe_id.ts";

const rejects = (input: string, rule: SpiffeIdRule) => {
  assert.throws(() => parseSpiffeId(input), (e: unknown) => {
    assert.ok(e instanceof SpiffeIdError, `expected SpiffeIdError for ${input}`);
    assert.equal(e.rule, rule, `rule for ${JSON.stringify(input)}`);
    return true;
  });
};

Deno.test("parseSpiffeId() accepts valid IDs and splits trust domain and path", () => {
  for (
    const [input, td, path] of [
      ["spiffe://example.org", "example.org", ""],
      ["spiffe://example.org/node/a", "example.org", "/node/a"],
      ["spiffe://a-b_c.0/Upper/x.y-z_9", "a-b_c.0", "/Upper/x.y-z_9"],
      ["spiffe://td/...", "td", "/..."],
      ["spiffe://td/.a", "td", "/.a"],
    ]
  ) {
    const id = parseSpiffeId(input);
    assert.equal(id.trustDomain, td);
    assert.equal(id.path, path);
    assert.equal(id.uri, input);
  }
});

Deno.test("parseSpiffeId() names the rule each invalid ID breaks", async (t) => {
  const cases: [string, string, SpiffeIdRule][] = [
    ["empty string", "", "empty"],
    ["longer than 2048 bytes", "spiffe://td/" + "a".repeat(2048 - 11), "too_long"],
    ["wrong scheme", "https://example.org/a", "bad_scheme"],
    ["uppercase scheme", "SPIFFE://example.org/a", "bad_scheme"],
    ["missing //", "spiffe:example.org/a", "bad_scheme"],
    ["missing trust domain", "spiffe:///a", "missing_trust_domain"],
    ["trust domain over 255 chars", `spiffe://${"a".repeat(256)}/x`, "trust_domain_too_long"],
    ["uppercase trust domain", "spiffe://Example.org/a", "bad_trust_domain_char"],
    ["bad trust domain char", "spiffe://exa$mple.org/a", "bad_trust_domain_char"],
    ["userinfo", "spiffe://user@example.org/a", "userinfo"],
    ["port", "spiffe://example.org:8443/a", "port"],
    ["query", "spiffe://example.org/a?x=1", "query"],
    ["query after trust domain", "spiffe://example.org?x", "query"],
    ["fragment", "spiffe://example.org/a#frag", "fragment"],
    ["percent-encoding in path", "spiffe://example.org/a%20b", "percent_encoding"],
    ["percent-encoding in trust domain", "spiffe://exa%41mple.org/a", "percent_encoding"],
    ["empty segment", "spiffe://example.org/a//b", "empty_segment"],
    ["dot segment", "spiffe://example.org/a/./b", "dot_segment"],
    ["dot-dot segment", "spiffe://example.org/a/../b", "dot_segment"],
    ["trailing slash", "spiffe://example.org/a/", "trailing_slash"],
    ["trailing slash on trust domain", "spiffe://example.org/", "trailing_slash"],
    ["bad path char", "spiffe://example.org/a b", "bad_path_char"],
    ["non-ASCII path char", "spiffe://example.org/é", "bad_path_char"],
  ];
  for (const [name, input, rule] of cases) {
    await t.step(`${name} → ${rule}`, () => rejects(input, rule));
  }
});

Deno.test("parseSpiffeId() accepts exactly 2048 bytes", () => {
  const id = "spiffe://td/" + "a".repeat(2048 - 12);
  assert.equal(new TextEncoder().encode(id).length, 2048);
  assert.ok(isSpiffeId(id));
});

/** Simple reference: the spec's grammar as one regular expression plus the two limits. */
const reference = (s: string): boolean => {
  const m = /^spiffe:\/\/([a-z0-9._-]+)((?:\/[A-Za-z0-9._-]+)*)$/.exec(s);
  if (!m || m[1].length > 255 || new TextEncoder().encode(s).length > 2048) return false;
  return !m[2].split("/").some((seg) => seg === "." || seg === "..");
};

Deno.test("parseSpiffeId() agrees with a regex reference on random strings", () => {
  const alphabet = ["a", "Z", "0", ".", "-", "_", "/", "/", ":", "@", "?", "#", "%", " ", ".."];
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  let valid = 0;
  for (let i = 0; i < 5000; i++) {
    let s = rand(10) === 0 ? "spiffe:/" : "spiffe://";
    const len = rand(12);
    for (let j = 0; j < len; j++) s += alphabet[rand(alphabet.length)];
    const ok = isSpiffeId(s);
    assert.equal(ok, reference(s), `disagreement on ${JSON.stringify(s)}`);
    if (ok) valid++;
  }
  assert.ok(valid > 50, `too few valid samples: ${valid}`);
});

Deno.test("spiffeIdFromParts() accepts only single, valid segments", () => {
  assert.equal(spiffeIdFromParts("mesh.test", "node", "r1").uri, "spiffe://mesh.test/node/r1");
  assert.throws(() => spiffeIdFromParts("mesh.test", "node", "a/b"), SpiffeIdError);
  assert.throws(() => spiffeIdFromParts("mesh.test", "node", ""), SpiffeIdError);
  assert.throws(() => spiffeIdFromParts("mesh.test", ".."), SpiffeIdError);
  assert.throws(() => parsePathSegment("a b"), SpiffeIdError);
  assert.equal(parsePathSegment("r-1.a_b"), "r-1.a_b");
});
