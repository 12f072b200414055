/**
 * eBPF telemetry, chaos injection and the loader behind them (re-exports only).
 *
 * @module
 */
export {
  type EbpfTelemetry,
  type EbpfTelemetryOptions,
  interfaceCounters,
  readFallbackCounters,
  startEbpfTelemetry,
} from "./telemetry.ts";
export { type ChaosRequest, type ChaosResult, clearChaos, setChaos } from "./chaos.ts";
export {
  type InterfaceCounters,
  type InterfaceStats,
  type NeighbourCounters,
  readInterfaceStats,
} from "./telemetry_reader.ts";
export { parseProcNetDev, type ProcNetDevCounters, readProcNetDev } from "./proc_net_dev.ts";
export { type ElfRejectReason, validateBpfElf } from "./elf_validate.ts";
export {
  type AttachMode,
  attachXdp,
  detachXdp,
  findAttached,
  loadObject,
} from "./program_loader.ts";
export { attachTc, detachTc, findAttachedTc } from "./tc_loader.ts";
export { cleanupStale } from "./crash_cleanup.ts";
export { chooseAttachMode, type TelemetryMode, VIRTUAL_DRIVERS } from "./attach_mode.ts";
export { ensureEbpfMetrics } from "./metrics.ts";
