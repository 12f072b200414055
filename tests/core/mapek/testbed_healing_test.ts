/**
 * MAPE-K inside real agents on the shared netns testbed (tests/testbed, native mesh backend):
 * a lossy link measured by the mesh agent's own prober is diagnosed on that link by the router
 * at its end, its routes move to the backup next hop in the kernel, the incident is served by
 * /incidents with its MTTR, and the routes come back when the link is clean again.
 *
 * @module
 */
import assert from "node:assert/strict";
import { missingForNetns, skipOrFail } from "../../testbed/harness.ts";
import { must } from "../../testbed/netns.ts";
import { link, router, setLinkLoss, testbedDown, testbedUp } from "../../testbed/testbed.ts";
import { parseTopology } from "../../testbed/topology.ts";
import { until } from "./helpers.ts";

const getJson = async (url: string) =>
  await (await fetch(url, { signal: AbortSignal.timeout(2000) })).json();

Deno.test("agents on the netns testbed heal a lossy link measured by the mesh prober: routes move to the backup and come back", async (t) => {
  const missing = await missingForNetns();
  if (missing) return skipOrFail(`testbed healing needs ${missing}`);
  const dir = await Deno.makeTempDir({ prefix: "x0mk-tb-" });
  const stateFile = `${dir}/state.json`;
  try {
    const state = await testbedUp(parseTopology("ring:4"), { stateFile });
    const r1 = router(state, "r1"), r2 = router(state, "r2");
    const l = link(state, "r1", "r2");
    const r1If = l.a === "r1" ? l.a_if : l.b_if;
    const viaDev = async () => {
      const out = await must("ip", ["-n", r1.netns, "-j", "route", "get", r2.router_address]);
      return (JSON.parse(out)[0] as { dev: string }).dev;
    };
    const drop = (op: "-A" | "-D") => setLinkLoss(state, "r1", "r2", op === "-A" ? 30 : 0);

    await t.step("the mesh converges and a quiet period gives no incident", async () => {
      await until(
        async () => {
          const { peers } = await getJson(`${r1.api}/mesh/peers`);
          return peers.length === 2 &&
              peers.every((p: { state: string; loss_percent: number }) =>
                p.state === "ONLINE" && p.loss_percent === 0
              )
            ? true
            : undefined;
        },
        60_000,
        "r1's neighbours ONLINE",
      );
      await until(
        async () => ((await viaDev()) === r1If ? true : undefined),
        15_000,
        "r1 → r2 direct",
      );
      await new Promise((r) => setTimeout(r, 10_000));
      for (const r of state.routers) {
        assert.deepEqual((await getJson(`${r.api}/incidents`)).incidents, [], r.name);
      }
    });

    let at = 0;
    await t.step(
      "30 % loss on r1–r2 is Network Loss on that link and r1's route to r2 moves off it",
      async () => {
        at = Date.now();
        await drop("-A");
        const inc = await until(
          async () => {
            const { incidents } = await getJson(
              `${r1.api}/incidents?type=network_loss&since=${at}`,
            );
            return incidents.find((i: { outcome: string }) => i.outcome !== "open");
          },
          30_000,
          "r1's network_loss incident",
        );
        assert.equal(inc.target, "r1|r2");
        assert.equal(inc.diagnosis.target.kind, "link");
        assert.equal(inc.outcome, "recovered");
        assert.deepEqual(
          inc.actions.map((a: { kind: string; result: string }) => [a.kind, a.result]),
          [
            ["switch_route", "success"],
          ],
        );
        assert.ok(typeof inc.mttr_s === "number");
        assert.notEqual(await viaDev(), r1If);
      },
    );

    await t.step("once the link is clean again the route returns to it", async () => {
      await drop("-D");
      await until(
        async () => ((await viaDev()) === r1If ? true : undefined),
        30_000,
        "r1 → r2 direct again",
      );
      const { incidents } = await getJson(`${r1.api}/incidents?type=network_loss&since=${at}`);
      assert.equal(incidents.length, 1);
    });
  } finally {
    await testbedDown(stateFile);
    await Deno.remove(dir, { recursive: true });
  }
});
