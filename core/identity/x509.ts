/**
 * `@peculiar/x509`, loaded after the small Reflect metadata shim its DI container (tsyringe)
 * insists on. Every identity module imports X.509 through this file, never directly.
 *
 * @module
 */
import "./reflect_shim.ts";
export * from "@peculiar/x509";
