/**
 * Runs inside the batman-adv guest: for each named network namespace, enters it (setns on this
 * thread, so the netlink socket opened next belongs to it), reads every table through the
 * adapter, bracketed by `batctl meshif <if> originators` / `neighbors` in that namespace right
 * before and right after, and retries until both batctl reads agree (TQ values move while OGMs
 * arrive). Prints one JSON object per namespace, for the host to compare with batctl of the
 * same instant. Also records the errors for an unknown interface and a non-batman one.
 *
 *   deno run --allow-ffi --allow-read --allow-run=ip batman_dump.ts bat0 x0b1:v12 x0b3:v32
 *
 * @module
 */
import { openBatmanClient } from "../../core/adapters/batman/batadv_client.ts";

const libc = Deno.dlopen("libc.so.6", {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  setns: { parameters: ["i32", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
});

function enterNetns(name: string): void {
  const path = new TextEncoder().encode(`/var/run/netns/${name}\0`);
  const fd = libc.symbols.open(path, 0o2000000); // O_RDONLY | O_CLOEXEC
  if (fd < 0) throw new Error(`Cannot open network namespace ${name}`);
  try {
    if (libc.symbols.setns(fd, 0x40000000) !== 0) throw new Error(`Cannot enter ${name}`);
  } finally {
    libc.symbols.close(fd);
  }
}

const [meshif, ...targets] = Deno.args;
const batctl = async (ns: string, table: string) => {
  const out = await new Deno.Command("ip", {
    args: ["netns", "exec", ns, "batctl", "meshif", meshif, table],
    stdout: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout);
};
/** batctl output without the last-seen column, which changes every read. */
const stable = (s: string) => s.replace(/\d+\.\d+s/g, "");
const failure = (f: () => unknown) => {
  try {
    f();
    return null;
  } catch (err) {
    return `${(err as Error).name}: ${(err as Error).message}`;
  }
};

for (const target of targets) {
  const [ns, notBatmanIf] = target.split(":");
  enterNetns(ns);
  const client = openBatmanClient(meshif);
  try {
    let result: Record<string, unknown> = {};
    for (let attempt = 0; attempt < 20; attempt++) {
      const beforeO = await batctl(ns, "originators");
      const beforeN = await batctl(ns, "neighbors");
      const tables = client.readAll();
      const afterO = await batctl(ns, "originators");
      const afterN = await batctl(ns, "neighbors");
      result = { ns, attempt, beforeO, beforeN, tables, afterO, afterN };
      if (stable(beforeO) === stable(afterO) && stable(beforeN) === stable(afterN)) break;
    }
    result.notBatman = failure(() => openBatmanClient(notBatmanIf).getMesh());
    result.noSuch = failure(() => openBatmanClient("nosuch0"));
    console.log(JSON.stringify(result));
  } finally {
    client.close();
  }
}
libc.close();
