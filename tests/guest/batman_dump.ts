/**
 * Runs inside the batman-adv guest, in one node's namespace: reads every table through the
 * adapter, bracketed by `batctl meshif <if> originators` / `neighbors` right before and right
 * after, and retries until both batctl reads agree (TQ values move while OGMs arrive), so the
 * host can compare the adapter with a batctl table of the same instant. Prints one JSON line.
 *
 * @module
 */
import { openBatmanClient } from "../../core/adapters/batman/batadv_client.ts";

const meshif = Deno.args[0] ?? "bat0";
const batctl = async (table: string) => {
  const out = await new Deno.Command("batctl", { args: ["meshif", meshif, table], stdout: "piped" })
    .output();
  return new TextDecoder().decode(out.stdout);
};
/** batctl output without the last-seen column, which changes every read. */
const stable = (s: string) => s.replace(/\d+\.\d+s/g, "");

const client = openBatmanClient(meshif);
try {
  let attempt = 0;
  let result: unknown;
  for (; attempt < 20; attempt++) {
    const beforeO = await batctl("originators");
    const beforeN = await batctl("neighbors");
    const tables = client.readAll();
    const afterO = await batctl("originators");
    const afterN = await batctl("neighbors");
    result = { attempt, beforeO, beforeN, tables, afterO, afterN };
    if (stable(beforeO) === stable(afterO) && stable(beforeN) === stable(afterN)) break;
  }
  // an interface that exists but is not a batman-adv soft interface
  let notBatman: string | null = null;
  if (Deno.args[1]) {
    try {
      openBatmanClient(Deno.args[1]).getMesh();
    } catch (err) {
      notBatman = `${(err as Error).name}: ${(err as Error).message}`;
    }
  }
  console.log(JSON.stringify({ ...result as object, notBatman }));
} finally {
  client.close();
}
