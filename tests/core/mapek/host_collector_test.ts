import assert from "node:assert/strict";
import { cgroupPaths, readCgroupUsage } from "../../../core/mapek/collectors/cgroup.ts";
import { hostCollector, parseMeminfo, parseProcStat } from "../../../core/mapek/collectors/host.ts";

Deno.test("parseProcStat() sums busy and total jiffies and counts CPUs", () => {
  const text =
    "cpu  100 5 50 800 20 3 2 0 7 0\ncpu0 50 2 25 400 10 1 1 0 0 0\ncpu1 50 3 25 400 10 2 1 0 0 0\nintr 1\n";
  // total = 100+5+50+800+20+3+2+0 (guest already in user) = 980; idle = 800 + 20 iowait.
  assert.deepEqual(parseProcStat(text), { busy: 160, total: 980, cpus: 2 });
  assert.throws(() => parseProcStat("intr 1\n"), /no aggregate cpu line/);
  assert.throws(() => parseProcStat("cpu  a b c d\n"), /Cannot parse \/proc\/stat/);
});

Deno.test("parseMeminfo() reads MemTotal and MemAvailable in bytes", () => {
  const text =
    "MemTotal:       1000 kB\nMemFree:         100 kB\nMemAvailable:    250 kB\nCached: 50 kB\n";
  assert.deepEqual(parseMeminfo(text), { totalBytes: 1024000, availableBytes: 256000 });
  assert.deepEqual(
    parseMeminfo("MemTotal: 10 kB\nMemFree: 2 kB\nCached: 3 kB\n").availableBytes,
    5 * 1024,
  );
  assert.throws(() => parseMeminfo("MemFree: 1 kB\n"), /no MemTotal/);
});

Deno.test("hostCollector() on this host reports cpu, memory and load from /proc", async () => {
  const host = hostCollector();
  const first = host.collect()[0];
  assert.equal(first.values.cpu_percent, undefined); // no delta yet
  assert.ok(first.values.memory_percent > 0 && first.values.memory_percent <= 100);
  assert.ok(first.values.load1 >= 0);
  await new Promise((r) => setTimeout(r, 200));
  const second = host.collect()[0];
  assert.ok(second.values.cpu_percent >= 0 && second.values.cpu_percent <= 100);
  assert.equal(second.labels?.scope, "host");
});

Deno.test("readCgroupUsage() reads the cgroup v2 layout (files in a temp dir: this host mounts cgroup v1)", async () => {
  const root = await Deno.makeTempDir({ prefix: "x0mk-cg2-" });
  try {
    await Deno.mkdir(`${root}/r1`);
    await Deno.writeTextFile(`${root}/cgroup.controllers`, "cpu memory\n");
    await Deno.writeTextFile(`${root}/r1/cpu.stat`, "usage_usec 5000000\nuser_usec 4000000\n");
    await Deno.writeTextFile(`${root}/r1/cpu.max`, "50000 100000\n");
    await Deno.writeTextFile(`${root}/r1/memory.current`, "300000000\n");
    await Deno.writeTextFile(`${root}/r1/memory.max`, "400000000\n");
    await Deno.writeTextFile(`${root}/r1/memory.stat`, "anon 1\ninactive_file 100000000\n");
    const paths = cgroupPaths("/r1", root);
    assert.equal(paths.version, 2);
    assert.deepEqual(readCgroupUsage(paths), {
      version: 2,
      cpuUsageUs: 5000000,
      cpuLimitCores: 0.5,
      memoryBytes: 200000000,
      memoryLimitBytes: 400000000,
    });
    await Deno.writeTextFile(`${root}/r1/cpu.max`, "max 100000\n");
    await Deno.writeTextFile(`${root}/r1/memory.max`, "max\n");
    const u = readCgroupUsage(paths);
    assert.equal(u.cpuLimitCores, null);
    assert.equal(u.memoryLimitBytes, null);
    assert.throws(() => cgroupPaths("/../etc", root), /Invalid cgroup path/);
    assert.throws(() => readCgroupUsage(cgroupPaths("/missing", root)), /Cannot read/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("hostCollector() in cgroup mode sees a busy process in its cgroup as its quota used up (cgroup v1 on this host)", async () => {
  if (Deno.uid() !== 0) {
    if (Deno.env.get("CI") === "true") throw new Error("cgroup test needs root");
    console.log("SKIP: cgroup test needs root");
    return;
  }
  const v2 =
    (await new Deno.Command("test", { args: ["-f", "/sys/fs/cgroup/cgroup.controllers"] }).output())
      .success;
  const cg = `/x0mk-host-${crypto.randomUUID().slice(0, 6)}`;
  const dirs = v2
    ? [`/sys/fs/cgroup${cg}`]
    : ["cpu", "cpuacct", "memory"].map((c) => `/sys/fs/cgroup/${c}${cg}`);
  const sh = (script: string) => new Deno.Command("sh", { args: ["-c", script] }).output();
  for (const d of dirs) await sh(`mkdir -p ${d}`);
  await sh(
    v2
      ? `echo "20000 100000" > /sys/fs/cgroup${cg}/cpu.max`
      : `echo 20000 > /sys/fs/cgroup/cpu${cg}/cpu.cfs_quota_us; echo 8192 > /sys/fs/cgroup/cpu${cg}/cpu.shares`,
  );
  const files = dirs.map((d) => `${d}/cgroup.procs`).join(" ");
  const busy = new Deno.Command("sh", {
    args: ["-c", `for f in ${files}; do echo $$ > $f; done; exec sh -c 'while :; do :; done'`],
  }).spawn();
  try {
    const host = hostCollector({ cgroup: cg });
    host.collect();
    const idle = hostCollector({ cgroup: cg });
    await new Promise((r) => setTimeout(r, 1500));
    const v = host.collect()[0];
    assert.equal(v.labels?.scope, `cgroup:${cg}`);
    assert.equal(v.values.cpu_limit_cores, 0.2);
    assert.ok(v.values.cpu_percent > 70, `cpu_percent ${v.values.cpu_percent}`);
    assert.ok(v.values.memory_percent >= 0 && v.values.memory_percent < 5);
    assert.equal(idle.collect()[0].values.cpu_percent, undefined);
  } finally {
    busy.kill("SIGKILL");
    await busy.status;
    for (const d of dirs) await sh(`rmdir ${d}`);
  }
});
