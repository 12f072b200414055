/**
 * `deno task bench`: runs every `bench:*` task in deno.json in turn (each is one benchmark with
 * its own side-by-side baseline and permissions) and reports which ones failed.
 *
 * @module
 */
import denoJson from "../deno.json" with { type: "json" };

const only = Deno.args;
const names = Object.keys(denoJson.tasks)
  .filter((name) => name.startsWith("bench:"))
  .filter((name) => only.length === 0 || only.some((o) => name.includes(o)));
const failed: string[] = [];
for (const name of names) {
  console.log(`\n=== deno task ${name}`);
  const status = await new Deno.Command("deno", { args: ["task", name] }).spawn().status;
  if (!status.success) failed.push(name);
}
console.log(
  `\n${names.length - failed.length} of ${names.length} benchmarks ran` +
    (failed.length ? `; failed: ${failed.join(", ")}` : ""),
);
Deno.exitCode = failed.length ? 1 : 0;
