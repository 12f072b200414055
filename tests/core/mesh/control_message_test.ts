import assert from "node:assert/strict";
import {
  encodeControlMessage,
  type Lsa,
  MAX_DB_LSAS,
  MAX_LINK_COST,
  MAX_LSA_LINKS,
  parseControlMessage,
} from "../../../core/mesh/control_message.ts";
import { seededRandom } from "../../../core/random/seeded_random.ts";

const lsa = (over: Partial<Lsa> = {}): Lsa => ({
  origin: "r1",
  seq: 1700000000000,
  age: 0,
  router_address: "10.255.0.1",
  links: [{ neighbour: "r2", cost: 50, quality: "EXCELLENT" }],
  ...over,
});

Deno.test("parseControlMessage() accepts the four message types and round-trips them", () => {
  const messages = [
    { v: 1, type: "hello", node_id: "r1", router_address: "10.255.0.1" },
    { v: 1, type: "lsa", lsa: lsa() },
    {
      v: 1,
      type: "lsa",
      lsa: lsa({ links: [{ neighbour: "r2", cost: MAX_LINK_COST, quality: "GOOD" }] }),
    },
    { v: 1, type: "ack", origin: "r9", seq: 42 },
    { v: 1, type: "db_end", lsas: 0 },
    { v: 1, type: "db_end", lsas: 20 },
  ] as const;
  for (const m of messages) {
    const parsed = parseControlMessage(encodeControlMessage(m));
    assert.ok(parsed.ok, JSON.stringify(parsed));
    assert.deepEqual(parsed.message, m);
  }
});

Deno.test("parseControlMessage() rejects malformed and foreign-version messages with a reason", async (t) => {
  const bad: Array<[string, unknown, "malformed" | "version"]> = [
    ["not JSON", "{", "malformed"],
    ["an array", [], "malformed"],
    ["version 2", { v: 2, type: "ack", origin: "r1", seq: 1 }, "version"],
    ["no version", { type: "ack", origin: "r1", seq: 1 }, "version"],
    ["unknown type", { v: 1, type: "nope" }, "malformed"],
    ["extra key", { v: 1, type: "ack", origin: "r1", seq: 1, x: 1 }, "malformed"],
    ["missing key", { v: 1, type: "ack", origin: "r1" }, "malformed"],
    ["zero seq", { v: 1, type: "ack", origin: "r1", seq: 0 }, "malformed"],
    ["fraction seq", { v: 1, type: "lsa", lsa: lsa({ seq: 1.5 }) }, "malformed"],
    ["negative age", { v: 1, type: "lsa", lsa: lsa({ age: -1 }) }, "malformed"],
    ["bad address", { v: 1, type: "lsa", lsa: lsa({ router_address: "10.0.0.256" }) }, "malformed"],
    ["bad origin", { v: 1, type: "lsa", lsa: lsa({ origin: "a b" }) }, "malformed"],
    [
      "link to itself",
      { v: 1, type: "lsa", lsa: lsa({ links: [{ neighbour: "r1", cost: 1, quality: "GOOD" }] }) },
      "malformed",
    ],
    [
      "duplicate link",
      {
        v: 1,
        type: "lsa",
        lsa: lsa({
          links: [
            { neighbour: "r2", cost: 1, quality: "GOOD" },
            { neighbour: "r2", cost: 2, quality: "GOOD" },
          ],
        }),
      },
      "malformed",
    ],
    ["db_end without count", { v: 1, type: "db_end" }, "malformed"],
    ["db_end negative", { v: 1, type: "db_end", lsas: -1 }, "malformed"],
    ["db_end fraction", { v: 1, type: "db_end", lsas: 1.5 }, "malformed"],
    ["db_end too many", { v: 1, type: "db_end", lsas: MAX_DB_LSAS + 1 }, "malformed"],
    ["db_end extra key", { v: 1, type: "db_end", lsas: 1, x: 1 }, "malformed"],
    [
      "cost over the maximum",
      {
        v: 1,
        type: "lsa",
        lsa: lsa({ links: [{ neighbour: "r2", cost: MAX_LINK_COST + 1, quality: "GOOD" }] }),
      },
      "malformed",
    ],
    [
      "zero cost",
      { v: 1, type: "lsa", lsa: lsa({ links: [{ neighbour: "r2", cost: 0, quality: "GOOD" }] }) },
      "malformed",
    ],
    [
      "unknown quality",
      {
        v: 1,
        type: "lsa",
        lsa: { ...lsa(), links: [{ neighbour: "r2", cost: 1, quality: "SUPERB" }] },
      },
      "malformed",
    ],
    [
      "too many links",
      {
        v: 1,
        type: "lsa",
        lsa: lsa({
          links: Array.from({ length: MAX_LSA_LINKS + 1 }, (_, i) => ({
            neighbour: `n${i}`,
            cost: 1,
            quality: "GOOD" as const,
          })),
        }),
      },
      "malformed",
    ],
  ];
  for (const [name, value, reason] of bad) {
    await t.step(name, () => {
      const text = typeof value === "string" ? value : JSON.stringify(value);
      const parsed = parseControlMessage(text);
      assert.equal(parsed.ok, false);
      if (!parsed.ok) assert.equal(parsed.reason, reason);
    });
  }
});

Deno.test("parseControlMessage() never throws on random mutations of a valid LSA", () => {
  const rand = seededRandom(7);
  const base = encodeControlMessage({ v: 1, type: "lsa", lsa: lsa() });
  let rejected = 0;
  for (let i = 0; i < 3000; i++) {
    const chars = [...base];
    const edits = 1 + Math.floor(rand() * 4);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(rand() * chars.length);
      const op = rand();
      if (op < 0.4) chars[at] = String.fromCharCode(32 + Math.floor(rand() * 95));
      else if (op < 0.7) chars.splice(at, 1);
      else chars.splice(at, 0, String.fromCharCode(32 + Math.floor(rand() * 95)));
    }
    const parsed = parseControlMessage(chars.join(""));
    if (!parsed.ok) {
      rejected++;
      continue;
    }
    // Whatever was accepted is a well-formed message that re-encodes to something parseable.
    const again = parseControlMessage(encodeControlMessage(parsed.message));
    assert.ok(again.ok);
    assert.deepEqual(again.message, parsed.message);
  }
  assert.ok(rejected > 1500, `only ${rejected} of 3000 mutations rejected`);
});
