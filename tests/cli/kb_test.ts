import assert from "node:assert/strict";

const CLI = new URL("../../cli/kb.ts", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;

async function kb(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "--allow-env", "--allow-net", CLI, ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("kb CLI ingests the runbooks and searches them with --json", async (t) => {
  const dataDir = await Deno.makeTempDir({ prefix: "x0kb_cli_" });
  try {
    await t.step("ingest a directory of .md files into <data-dir>/knowledge", async () => {
      const res = await kb("ingest", "runbooks", "--data-dir", dataDir);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /^Ingested \d+ documents/);
      assert.ok((await Deno.stat(`${dataDir}/knowledge/segments`)).isDirectory);
    });
    await t.step("search --json prints the hits contract on stdout only", async () => {
      const res = await kb(
        "search",
        "neighbour keeps going offline and online, link flapping",
        "--k",
        "3",
        "--type",
        "runbook",
        "--data-dir",
        dataDir,
        "--json",
      );
      assert.equal(res.code, 0, res.stderr);
      const body = JSON.parse(res.stdout);
      assert.deepEqual(Object.keys(body), ["hits"]);
      assert.ok(body.hits.length >= 1 && body.hits.length <= 3);
      for (const h of body.hits) {
        assert.deepEqual(Object.keys(h), ["id", "score", "document_type", "tags", "metadata"]);
        assert.equal(h.document_type, "runbook");
        assert.equal(typeof h.score, "number");
      }
      assert.equal(body.hits[0].id, "runbook:link_flapping");
      assert.equal(body.hits[0].metadata.action, "isolate_link");
    });
    await t.step("ingest a .jsonl batch; a bad line rejects the whole file", async () => {
      const good = `${dataDir}/good.jsonl`;
      await Deno.writeTextFile(
        good,
        [
          JSON.stringify({
            id: "inc-a",
            content: "cpu at 99% on r3, restarted babeld",
            document_type: "incident",
            metadata: { action: "restart_service", outcome: "success", fault_type: "high_cpu" },
          }),
          JSON.stringify({
            id: "inc-b",
            content: "memory full on r4, cleared cache",
            document_type: "incident",
            metadata: { action: "clear_cache", outcome: "success", fault_type: "high_memory" },
          }),
        ].join("\n") + "\n",
      );
      let res = await kb("ingest", good, "--data-dir", dataDir, "--json");
      assert.equal(res.code, 0, res.stderr);
      assert.deepEqual(JSON.parse(res.stdout).ingested, 2);
      const bad = `${dataDir}/bad.jsonl`;
      await Deno.writeTextFile(
        bad,
        [
          JSON.stringify({ id: "inc-c", content: "fine", document_type: "incident" }),
          JSON.stringify({ id: "inc-d", content: "missing type" }),
        ].join("\n"),
      );
      res = await kb("ingest", bad, "--data-dir", dataDir);
      assert.equal(res.code, 1);
      assert.equal(res.stdout, "");
      assert.match(res.stderr, /^Invalid document inc-d: document_type: /);
      res = await kb(
        "search",
        "fine",
        "--type",
        "incident",
        "--data-dir",
        dataDir,
        "--json",
        "--k",
        "10",
      );
      assert.ok(!JSON.parse(res.stdout).hits.some((h: { id: string }) => h.id === "inc-c"));
      await Deno.writeTextFile(bad, "{not json\n");
      res = await kb("ingest", bad, "--data-dir", dataDir);
      assert.equal(res.code, 1);
      assert.match(res.stderr, /line 1/);
    });
    await t.step("recommend answers from past incidents", async () => {
      const res = await kb(
        "recommend",
        "processor at 98 percent on r3",
        "--signature",
        "cpu_percent=98",
        "--data-dir",
        dataDir,
        "--json",
      );
      assert.equal(res.code, 0, res.stderr);
      const body = JSON.parse(res.stdout);
      assert.equal(body.recommendation.action, "restart_service");
      assert.equal(body.recommendation.source, "incidents");
    });
    await t.step("bad arguments fail with one line on stderr", async () => {
      let res = await kb("search", "x", "--type", "memo", "--data-dir", dataDir);
      assert.notEqual(res.code, 0);
      res = await kb("ingest", `${dataDir}/nope`, "--data-dir", dataDir);
      assert.equal(res.code, 1);
      assert.equal(res.stderr.trim().split("\n").length, 1);
    });
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
