import assert from "node:assert/strict";
import { freePort, mintApiToken, runCli, startAgentProcess } from "../helpers/agent_process.ts";

const mint = mintApiToken;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

Deno.test("the agent demands tokens for writes, keeps reads open, and lets a member join with X0_JOIN_TOKEN over TLS", async (t) => {
  const issuerPort = freePort();
  // A file, not X0_IDENTITY__ISSUER_PORT: the env loader keeps values of null-default keys as text.
  const configFile = await Deno.makeTempFile({ prefix: "x0-issuer-", suffix: ".json" });
  await Deno.writeTextFile(configFile, JSON.stringify({ identity: { issuer_port: issuerPort } }));
  const issuer = await startAgentProcess(["--config", configFile], {
    env: { X0_METRICS_PUBLIC: "false" },
  });
  let member: Awaited<ReturnType<typeof startAgentProcess>> | undefined;
  try {
    const d = issuer.dataDir;
    const post = (headers: Record<string, string> = {}) =>
      fetch(`${issuer.url}/knowledge/documents`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ id: "note-auth", content: "auth test note", document_type: "note" }),
      });

    await t.step("a write without a token is 401 and changes nothing", async () => {
      const res = await post();
      assert.equal(res.status, 401);
      assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer/);
      await res.body?.cancel();
      const doc = await fetch(`${issuer.url}/knowledge/documents/note-auth`);
      assert.equal(doc.status, 404);
      await doc.body?.cancel();
    });

    await t.step("a read token cannot write (403); wrong audience or garbage is 401", async () => {
      const r1 = await post(bearer(await mint(d, "read")));
      assert.equal(r1.status, 403);
      await r1.body?.cancel();
      const r2 = await post(bearer(await mint(d, "operate", "someone-else")));
      assert.equal(r2.status, 401);
      await r2.body?.cancel();
      const r3 = await post(bearer("not.a.jwt"));
      assert.equal(r3.status, 401);
      await r3.body?.cancel();
    });

    await t.step("an operate token writes and deletes", async () => {
      const token = await mint(d, "operate");
      const res = await post(bearer(token));
      assert.equal(res.status, 201, await res.text());
      const del = await fetch(`${issuer.url}/knowledge/documents/note-auth`, { method: "DELETE" });
      assert.equal(del.status, 401);
      await del.body?.cancel();
      const ok = await fetch(`${issuer.url}/knowledge/documents/note-auth`, {
        method: "DELETE",
        headers: bearer(token),
      });
      assert.ok(ok.status < 300, String(ok.status));
      await ok.body?.cancel();
    });

    await t.step(
      "health, reads and the bundle stay open; metrics need a token when not public",
      async () => {
        for (
          const path of ["/health", "/mesh/status", "/knowledge/search?q=cpu", "/identity/bundle"]
        ) {
          const res = await fetch(`${issuer.url}${path}`);
          assert.ok(res.status === 200 || res.status === 503, `${path}: ${res.status}`);
          await res.body?.cancel();
        }
        const anon = await fetch(`${issuer.url}/metrics`);
        assert.equal(anon.status, 401);
        await anon.body?.cancel();
        const withToken = await fetch(`${issuer.url}/metrics`, {
          headers: bearer(await mint(d, "read")),
        });
        assert.equal(withToken.status, 200);
        assert.match(await withToken.text(), /x0_/);
      },
    );

    await t.step(
      "join tokens need admin; a member joins with X0_JOIN_TOKEN and shares the bundle",
      async () => {
        const create = (token: string) =>
          fetch(`${issuer.url}/identity/join-tokens`, {
            method: "POST",
            headers: { "content-type": "application/json", ...bearer(token) },
            body: JSON.stringify({ node: "m1" }),
          });
        const denied = await create(await mint(d, "operate"));
        assert.equal(denied.status, 403);
        await denied.body?.cancel();
        const res = await create(await mint(d, "admin"));
        assert.equal(res.status, 201);
        const { token } = await res.json();
        const memberEnv = {
          X0_IDENTITY__ROLE: "member",
          X0_IDENTITY__ISSUER_URL: `https://127.0.0.1:${issuerPort}`,
          X0_JOIN_TOKEN: token,
        };
        await assert.rejects(
          startAgentProcess([], { env: memberEnv, timeoutMs: 10_000 }),
          /ca_sha256/,
          "no join without the CA pin",
        );
        await assert.rejects(
          startAgentProcess([], {
            env: { ...memberEnv, X0_IDENTITY__ISSUER_URL: issuer.url },
            timeoutMs: 10_000,
          }),
          /TLS only/,
          "no plain-HTTP issuer URL",
        );
        const issuerShow = JSON.parse(
          (await runCli(["identity", "show", "--json", "--data-dir", d])).stdout,
        );
        member = await startAgentProcess([], {
          env: { ...memberEnv, X0_IDENTITY__CA_SHA256: issuerShow.ca_sha256 },
        });
        const show = await runCli(["identity", "show", "--json", "--data-dir", member.dataDir]);
        const me = JSON.parse(show.stdout);
        assert.equal(me.spiffe_id, "spiffe://x0tta6bl4.mesh/node/m1");
        assert.equal(me.issuer, false);
        const theirs = await fetch(`${member.url}/identity/bundle?format=pem`).then((r) =>
          r.text()
        );
        const ours = await fetch(`${issuer.url}/identity/bundle?format=pem`).then((r) => r.text());
        assert.equal(theirs, ours);
        // The member verifies API tokens minted by the issuer (same trust domain, same JWT key).
        const write = await fetch(`${member.url}/knowledge/documents`, {
          method: "POST",
          headers: { "content-type": "application/json", ...bearer(await mint(d, "operate")) },
          body: JSON.stringify({ id: "note-m", content: "member note", document_type: "note" }),
        });
        assert.equal(write.status, 201, await write.text());
      },
    );
  } finally {
    await member?.stop();
    await issuer.stop();
    if (member) await Deno.remove(member.dataDir, { recursive: true }).catch(() => {});
    await Deno.remove(issuer.dataDir, { recursive: true }).catch(() => {});
    await Deno.remove(configFile);
  }
});
