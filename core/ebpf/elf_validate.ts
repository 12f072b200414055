/**
 * Static checks of an eBPF object file before anything reaches libbpf or the kernel: an ELF64
 * little-endian relocatable for the BPF machine, every header and section inside the file,
 * only known sections, XDP and TC program sections only, a GPL-compatible license, and a size limit.
 * Each failure is a `ValidationError` whose `details.reason` names the rule that failed.
 *
 * @module
 */
import { ValidationError } from "../errors.ts";

/** Why an object was rejected (stable strings; tests and logs rely on them). */
export type ElfRejectReason =
  | "too_large"
  | "truncated"
  | "not_elf"
  | "wrong_class"
  | "wrong_endianness"
  | "not_relocatable"
  | "wrong_machine"
  | "bad_section_table"
  | "unknown_section"
  | "program_section_not_allowed"
  | "no_program"
  | "no_license"
  | "license_not_gpl";

/** One section of a parsed object. */
export interface ElfSection {
  name: string;
  type: number;
  flags: number;
  offset: number;
  size: number;
}

/** What a valid object contains. */
export interface ValidatedElf {
  /** Sections, in file order. */
  sections: ElfSection[];
  /** Program section names (executable, non-empty). */
  programSections: string[];
  /** The license string. */
  license: string;
}

/** Limits and allow-lists for `validateBpfElf`. */
export interface ElfPolicy {
  /** Largest accepted object, bytes. */
  maxBytes: number;
  /** Accepted program section names: exact names, or prefixes ending with "/". */
  programSections: string[];
}

/** The agent's policy: XDP and TC (clsact) programs only, objects up to 1 MiB. */
export const DEFAULT_ELF_POLICY: ElfPolicy = {
  maxBytes: 1 << 20,
  programSections: ["xdp", "xdp/", "xdp.frags", "xdp.frags/", "tc", "classifier", "classifier/"],
};

/** ELF machine number of eBPF (EM_BPF). */
export const EM_BPF = 247;

/** License strings the kernel treats as GPL-compatible (kernel/module license_is_gpl_compatible). */
export const GPL_COMPATIBLE_LICENSES: readonly string[] = [
  "GPL",
  "GPL v2",
  "GPL and additional rights",
  "Dual BSD/GPL",
  "Dual MIT/GPL",
  "Dual MPL/GPL",
];

const SHT_NOBITS = 8;
const SHF_EXECINSTR = 0x4;
const SHDR_SIZE = 64;

/** Non-program sections clang/libbpf produce; anything else is unknown and rejected. */
const KNOWN_EXACT = new Set([
  "",
  ".text",
  ".strtab",
  ".shstrtab",
  ".symtab",
  "license",
  ".maps",
  ".BTF",
  ".BTF.ext",
  ".llvm_addrsig",
  ".data",
  ".bss",
  ".rodata",
]);
const KNOWN_PREFIXES = [".rodata.", ".data.", ".bss.", ".debug_"];

function reject(reason: ElfRejectReason, message: string, extra: Record<string, unknown> = {}) {
  return new ValidationError(message, { details: { reason, ...extra } });
}

function isKnownSection(name: string): boolean {
  return KNOWN_EXACT.has(name) || KNOWN_PREFIXES.some((p) => name.startsWith(p));
}

function isAllowedProgramSection(name: string, policy: ElfPolicy): boolean {
  return policy.programSections.some((p) =>
    p.endsWith("/") ? name.startsWith(p) && name.length > p.length : name === p
  );
}

function cStringAt(bytes: Uint8Array, start: number, end: number): string | null {
  const stop = bytes.subarray(start, end).indexOf(0);
  if (stop < 0) return null;
  return new TextDecoder().decode(bytes.subarray(start, start + stop));
}

/**
 * Validates an eBPF object's bytes; throws `ValidationError` (details.reason) on the first
 * broken rule, returns the parsed sections otherwise. Pure: touches no file and no kernel.
 *
 * @param bytes the whole object file
 * @param options policy overrides and a name for messages
 */
export function validateBpfElf(
  bytes: Uint8Array,
  options: { name?: string; policy?: Partial<ElfPolicy> } = {},
): ValidatedElf {
  const policy = { ...DEFAULT_ELF_POLICY, ...options.policy };
  const name = options.name ?? "object";
  const bad = `Invalid eBPF object ${name}`;
  if (bytes.length > policy.maxBytes) {
    throw reject("too_large", `${bad}: ${bytes.length} bytes exceeds ${policy.maxBytes}`);
  }
  if (
    bytes.length < 4 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c ||
    bytes[3] !== 0x46
  ) {
    throw reject(bytes.length < 4 ? "truncated" : "not_elf", `${bad}: not an ELF file`);
  }
  if (bytes.length < 64) throw reject("truncated", `${bad}: truncated ELF header`);
  if (bytes[4] !== 2) throw reject("wrong_class", `${bad}: not a 64-bit ELF`);
  if (bytes[5] !== 1) throw reject("wrong_endianness", `${bad}: not little-endian`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const machine = v.getUint16(18, true);
  if (machine !== EM_BPF) {
    throw reject("wrong_machine", `${bad}: ELF machine ${machine} is not BPF (${EM_BPF})`, {
      machine,
    });
  }
  if (v.getUint16(16, true) !== 1) {
    throw reject("not_relocatable", `${bad}: not a relocatable object`);
  }

  const shoff = Number(v.getBigUint64(40, true));
  const shentsize = v.getUint16(58, true);
  const shnum = v.getUint16(60, true);
  const shstrndx = v.getUint16(62, true);
  if (shentsize !== SHDR_SIZE || shnum === 0 || shstrndx >= shnum) {
    throw reject("bad_section_table", `${bad}: malformed section header table`);
  }
  if (shoff + shnum * SHDR_SIZE > bytes.length) {
    throw reject("truncated", `${bad}: section headers end past the file (${bytes.length} bytes)`);
  }
  const raw = Array.from({ length: shnum }, (_, i) => {
    const o = shoff + i * SHDR_SIZE;
    return {
      nameOff: v.getUint32(o, true),
      type: v.getUint32(o + 4, true),
      flags: Number(v.getBigUint64(o + 8, true)),
      offset: Number(v.getBigUint64(o + 24, true)),
      size: Number(v.getBigUint64(o + 32, true)),
    };
  });
  raw.forEach((s, i) => {
    if (s.type !== SHT_NOBITS && s.offset + s.size > bytes.length) {
      throw reject("truncated", `${bad}: section ${i} ends past the file`, { section: i });
    }
  });
  const strtab = raw[shstrndx];
  const sections: ElfSection[] = raw.map((s, i) => {
    const start = strtab.offset + s.nameOff;
    const sectionName = s.nameOff < strtab.size
      ? cStringAt(bytes, start, strtab.offset + strtab.size)
      : null;
    if (sectionName === null) {
      throw reject("bad_section_table", `${bad}: section ${i} has an invalid name`);
    }
    return { name: sectionName, type: s.type, flags: s.flags, offset: s.offset, size: s.size };
  });

  const license = sections.find((s) => s.name === "license");
  if (!license || license.size === 0) {
    throw reject("no_license", `${bad}: no license section`);
  }
  const licenseText = cStringAt(bytes, license.offset, license.offset + license.size);
  if (licenseText === null || !GPL_COMPATIBLE_LICENSES.includes(licenseText)) {
    throw reject(
      "license_not_gpl",
      `${bad}: license ${JSON.stringify(licenseText ?? "")} is not GPL-compatible`,
    );
  }

  const programSections: string[] = [];
  for (const s of sections) {
    const base = s.name.startsWith(".rel") ? s.name.replace(/^\.rela?/, "") : s.name;
    const isProgram = (s.flags & SHF_EXECINSTR) !== 0 && s.name !== ".text";
    if (isProgram) {
      if (!isAllowedProgramSection(s.name, policy)) {
        throw reject(
          "program_section_not_allowed",
          `${bad}: program section ${s.name} is not allowed`,
          {
            section: s.name,
          },
        );
      }
      if (s.size > 0) programSections.push(s.name);
      continue;
    }
    const relocTarget = s.name !== base;
    if (isKnownSection(base) || (relocTarget && isAllowedProgramSection(base, policy))) continue;
    throw reject("unknown_section", `${bad}: unknown section ${s.name}`, { section: s.name });
  }
  if (programSections.length === 0) throw reject("no_program", `${bad}: no program section`);
  return { sections, programSections, license: licenseText };
}
