/**
 * One way to read kernel pseudo-files (/proc, /sys): Deno's own file API where it is allowed,
 * else libc through FFI (Deno 2.9 requires --allow-all for these paths; --allow-ffi is the
 * narrower grant the agent already holds). Callers get a clear UnavailableError otherwise.
 *
 * @module
 */
import { readFileWithLibc } from "../../ffi/libc_file.ts";
import { UnavailableError } from "../errors.ts";

/** The ways a kernel file can be read in this process, decided once. */
type Mode = "deno" | "libc" | "none";
let mode: Mode | undefined;

function ffiGranted(): boolean {
  try {
    return Deno.permissions.querySync({ name: "ffi" }).state === "granted";
  } catch {
    return false;
  }
}

function detect(): Mode {
  try {
    Deno.readTextFileSync("/proc/self/stat");
    return "deno";
  } catch {
    return ffiGranted() ? "libc" : "none";
  }
}

/**
 * Reads a /proc or /sys file as text.
 *
 * @param path absolute path
 * @throws UnavailableError when neither Deno nor libc may read it, or it does not exist
 */
export function readKernelFile(path: string): string {
  mode ??= detect();
  if (mode === "none") {
    throw new UnavailableError(
      `Cannot read ${path}: Deno needs --allow-ffi (or --allow-all) to read /proc and /sys`,
    );
  }
  try {
    return mode === "deno" ? Deno.readTextFileSync(path) : readFileWithLibc(path);
  } catch (err) {
    throw new UnavailableError(`Cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** True when kernel files can be read in this process. */
export function kernelFilesReadable(): boolean {
  mode ??= detect();
  return mode !== "none";
}
