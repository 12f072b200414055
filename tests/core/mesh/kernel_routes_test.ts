import assert from "node:assert/strict";
import {
  createRouteTable,
  type KernelRoute,
  type RouteCommandRunner,
} from "../../../core/mesh/kernel_routes.ts";

/** Records the command batches instead of running them (the kernel side is tested in netns). */
function recorder(): RouteCommandRunner & { batches: string[][] } {
  const batches: string[][] = [];
  return {
    batches,
    run(commands) {
      batches.push(commands);
      return Promise.resolve(1);
    },
    close: () => Promise.resolve(),
  };
}

const r = (destination: string, via: string, dev: string, metric = 10): KernelRoute => ({
  destination,
  via,
  dev,
  metric,
});

Deno.test("route table sync issues only the commands that change the kernel", async (t) => {
  const runner = recorder();
  const table = createRouteTable(runner, { protocol: 99, src: "10.255.0.1" });

  await t.step("new routes are replaced in with our protocol and source", async () => {
    await table.sync([
      r("10.255.0.2", "10.200.0.1", "to-r2"),
      r("10.255.0.2", "10.200.0.9", "to-r5", 20),
    ]);
    assert.deepEqual(runner.batches.pop(), [
      "route replace 10.255.0.2/32 via 10.200.0.1 dev to-r2 proto 99 metric 10 src 10.255.0.1",
      "route replace 10.255.0.2/32 via 10.200.0.9 dev to-r5 proto 99 metric 20 src 10.255.0.1",
    ]);
  });

  await t.step("an unchanged set issues nothing", async () => {
    assert.equal(
      await table.sync([
        r("10.255.0.2", "10.200.0.1", "to-r2"),
        r("10.255.0.2", "10.200.0.9", "to-r5", 20),
      ]),
      0,
    );
    assert.equal(runner.batches.length, 0);
  });

  await t.step(
    "a changed next hop is replaced and a dropped route deleted by protocol",
    async () => {
      await table.sync([r("10.255.0.2", "10.200.0.9", "to-r5")]);
      assert.deepEqual(runner.batches.pop(), [
        "route replace 10.255.0.2/32 via 10.200.0.9 dev to-r5 proto 99 metric 10 src 10.255.0.1",
        "route del 10.255.0.2/32 proto 99 metric 20",
      ]);
      assert.deepEqual(table.installed(), [r("10.255.0.2", "10.200.0.9", "to-r5")]);
    },
  );

  await t.step("forgetDev makes the next sync reinstall routes over that device", async () => {
    table.forgetDev("to-r5");
    await table.sync([r("10.255.0.2", "10.200.0.9", "to-r5")]);
    assert.deepEqual(runner.batches.pop(), [
      "route replace 10.255.0.2/32 via 10.200.0.9 dev to-r5 proto 99 metric 10 src 10.255.0.1",
    ]);
  });

  await t.step("flush removes every route of our protocol and nothing else", async () => {
    await table.flush();
    assert.deepEqual(runner.batches.pop(), ["route flush proto 99"]);
    assert.deepEqual(table.installed(), []);
  });
});
