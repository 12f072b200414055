import assert from "node:assert/strict";
import { mintApiToken, startAgentProcess } from "../helpers/agent_process.ts";

/** Mints an API token (JWT-SVID) with the agent's identity, as an operator would. */
Deno.test("the agent serves a knowledge base seeded with runbooks that survives a restart", async (t) => {
  const first = await startAgentProcess();
  const dataDir = first.dataDir;
  try {
    await t.step("a fresh agent answers with the shipped runbooks", async () => {
      const res = await fetch(
        `${first.url}/knowledge/search?q=cpu%20usage%20high&k=3&type=runbook`,
      );
      assert.equal(res.status, 200);
      const body = await res.json();
      assert.ok(body.hits.length > 0, JSON.stringify(body));
      assert.ok(body.hits.every((h: { document_type: string }) => h.document_type === "runbook"));
    });
    await t.step("a posted note is searchable", async () => {
      const token = await mintApiToken(dataDir, "operate");
      const res = await fetch(`${first.url}/knowledge/documents`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({
          id: "note-ferrite",
          content: "Ferrite clamp on the r7 uplink cable stopped the interference bursts",
          document_type: "note",
          tags: ["r7", "hardware"],
        }),
      });
      assert.ok(res.status === 200 || res.status === 201, await res.text());
    });
  } finally {
    await first.stop();
  }
  const second = await startAgentProcess([], { dataDir });
  try {
    await t.step("after a restart the note and every shipped runbook are there", async () => {
      const doc = await fetch(`${second.url}/knowledge/documents/note-ferrite`);
      assert.equal(doc.status, 200);
      await doc.body?.cancel();
      const res = await fetch(
        `${second.url}/knowledge/search?q=ferrite%20clamp%20interference&k=5`,
      );
      const body = await res.json();
      assert.equal(body.hits[0]?.id, "note-ferrite");
      const shipped = [...Deno.readDirSync(new URL("../../runbooks/", import.meta.url))]
        .filter((e) => e.name.endsWith(".md")).map((e) => e.name.replace(/\.md$/, ""));
      assert.ok(shipped.length >= 6);
      for (const name of shipped) {
        const r = await fetch(`${second.url}/knowledge/documents/runbook:${name}`);
        assert.equal(r.status, 200, `runbook:${name}`);
        assert.equal((await r.json()).document_type, "runbook");
      }
    });
  } finally {
    await second.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
