/**
 * The SPIFFE Workload API stand-in for tests: a grpcio server (server.py) built with protoc from
 * the published workload.proto, because SPIRE cannot be installed here.
 *
 * @module
 */
import assert from "node:assert/strict";
import { toBase64 } from "../../../../core/identity/pem.ts";
import type { X509Svid } from "../../../../core/identity/svid.ts";

const HERE = new URL(".", import.meta.url).pathname;
const PYTHON = "/usr/bin/python3";

/** Prints a loud SKIP, or throws in CI where a skip is a failure. */
export function skipOrFail(what: string): void {
  if (Deno.env.get("CI") === "true") throw new Error(`Missing: ${what}`);
  console.warn(`SKIP: ${what}`);
}

/** What the stand-in needs: protoc and Debian python3 with grpcio and protobuf. */
export const STAND_IN_TOOLS =
  "protoc and python3-grpcio (Debian protobuf-compiler python3-grpcio python3-protobuf)";

/** Whether protoc and python3 grpcio/protobuf are installed. */
export async function hasStandInTools(): Promise<boolean> {
  const ok = async (cmd: string, args: string[]) =>
    (await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output().catch(() =>
      null
    ))
      ?.success ?? false;
  return await ok("protoc", ["--version"]) &&
    await ok(PYTHON, ["-c", "import grpc, google.protobuf"]);
}

/** One X509SVIDResponse for the stand-in: SVIDs (with keys and our bundle) and federated bundles. */
export async function standInResponse(
  svids: X509Svid[],
  bundleCa: { rawData: ArrayBuffer },
  federated: Record<string, { rawData: ArrayBuffer }> = {},
): Promise<unknown> {
  const der = (b: { rawData: ArrayBuffer }) => toBase64(new Uint8Array(b.rawData));
  return {
    svids: await Promise.all(svids.map(async (s) => ({
      spiffe_id: s.id.uri,
      x509_svid: der(s.chain[0]),
      x509_svid_key: toBase64(
        new Uint8Array(await crypto.subtle.exportKey("pkcs8", s.privateKey!)),
      ),
      bundle: der(bundleCa),
    }))),
    federated: Object.fromEntries(Object.entries(federated).map(([k, v]) => [k, der(v)])),
  };
}

/** A running stand-in. */
export interface StandIn {
  /** Its unix socket path. */
  socket: string;
  /** With `stepped`: lets the stream send response `i` (1-based after the first). */
  step(i: number): Promise<void>;
  /** Stops the server and removes its files. */
  stop(): Promise<void>;
}

/**
 * Starts the stand-in streaming `responses` on FetchX509SVID: each `delayMs` apart, or, with
 * `stepped`, each later one only after `step(i)`.
 *
 * @param responses X509SVIDResponse descriptions (see {@link standInResponse})
 * @param options delay, socket path, stepped mode
 */
export async function startStandIn(
  responses: unknown[],
  options: { delayMs?: number; socketPath?: string; stepped?: boolean } = {},
): Promise<StandIn> {
  const dir = await Deno.makeTempDir({ prefix: "x0-wlapi-" });
  const gen = `${dir}/gen`;
  await Deno.mkdir(gen);
  const protoc = await new Deno.Command("protoc", {
    args: [`--proto_path=${HERE}`, `--python_out=${gen}`, "workload.proto"],
  }).output();
  assert.ok(protoc.success, new TextDecoder().decode(protoc.stderr));
  const socket = options.socketPath ?? `${dir}/agent.sock`;
  await Deno.remove(socket).catch(() => {});
  const stepFile = `${dir}/step`;
  await Deno.writeTextFile(
    `${dir}/config.json`,
    JSON.stringify({
      socket,
      delay_ms: options.delayMs ?? 200,
      responses,
      ...(options.stepped ? { step_file: stepFile } : {}),
    }),
  );
  const child = new Deno.Command(PYTHON, {
    args: [`${HERE}server.py`, gen, `${dir}/config.json`],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.getReader();
  const first = await reader.read();
  assert.match(new TextDecoder().decode(first.value), /ready/);
  reader.releaseLock();
  return {
    socket,
    step: (i) => Deno.writeTextFile(`${stepFile}${i}`, ""),
    async stop() {
      child.kill("SIGTERM");
      await child.stdout.cancel();
      await child.stderr.cancel();
      await child.status;
      await Deno.remove(dir, { recursive: true });
    },
  };
}
