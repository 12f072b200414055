import assert from "node:assert/strict";
import { ValidationError } from "../../../core/errors.ts";
import { validateBpfElf } from "../../../core/ebpf/elf_validate.ts";
import { objectPath } from "../../../core/ebpf/program_loader.ts";
import { minimalXdpObject, unknownSection } from "./elf_fixture.ts";

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ValidationError, `expected ValidationError, got ${err}`);
    return String(err.details?.reason);
  }
  assert.fail("expected a rejection");
}

const telemetry = Deno.readFileSync(objectPath("x0_telemetry"));
const chaos = Deno.readFileSync(objectPath("x0_chaos"));
const tc = Deno.readFileSync(objectPath("x0_telemetry_tc"));

Deno.test("validateBpfElf() accepts the shipped objects and the minimal fixture", () => {
  for (const bytes of [telemetry, chaos]) {
    const v = validateBpfElf(bytes);
    assert.deepEqual(v.programSections, ["xdp"]);
    assert.equal(v.license, "GPL");
  }
  assert.deepEqual(validateBpfElf(tc).programSections, ["tc"]);
  assert.deepEqual(validateBpfElf(minimalXdpObject()).programSections, ["xdp"]);
});

Deno.test("validateBpfElf() rejects each defect with its own reason", async (t) => {
  await t.step("truncated object", () => {
    assert.equal(
      reason(() => validateBpfElf(telemetry.slice(0, telemetry.length - 100))),
      "truncated",
    );
    assert.equal(reason(() => validateBpfElf(telemetry.slice(0, 40))), "truncated");
    assert.equal(reason(() => validateBpfElf(telemetry.slice(0, 2))), "truncated");
  });
  await t.step("wrong machine", () => {
    assert.equal(reason(() => validateBpfElf(minimalXdpObject({ machine: 62 }))), "wrong_machine");
    const x86 = telemetry.slice();
    new DataView(x86.buffer).setUint16(18, 62, true);
    assert.equal(reason(() => validateBpfElf(x86)), "wrong_machine");
  });
  await t.step("missing license", () => {
    assert.equal(reason(() => validateBpfElf(minimalXdpObject({ license: null }))), "no_license");
  });
  await t.step("license that is not GPL-compatible", () => {
    assert.equal(
      reason(() => validateBpfElf(minimalXdpObject({ license: "Proprietary" }))),
      "license_not_gpl",
    );
  });
  await t.step("unknown section", () => {
    assert.equal(
      reason(() => validateBpfElf(minimalXdpObject({ extra: [unknownSection()] }))),
      "unknown_section",
    );
  });
  await t.step("program type outside the allow-list", () => {
    assert.equal(
      reason(() => validateBpfElf(minimalXdpObject({ programSection: "kprobe/sys_bpf" }))),
      "program_section_not_allowed",
    );
  });
  await t.step("too large", () => {
    assert.equal(
      reason(() => validateBpfElf(telemetry, { policy: { maxBytes: 1000 } })),
      "too_large",
    );
  });
  await t.step("not an ELF file", () => {
    assert.equal(
      reason(() => validateBpfElf(new TextEncoder().encode("#!/bin/sh\necho hi"))),
      "not_elf",
    );
  });
});

Deno.test("validateBpfElf() rejects every truncated prefix of a real object", () => {
  // clang puts the section header table last, so any prefix loses part of it.
  for (let len = 0; len < telemetry.length; len += 37) {
    assert.equal(
      reason(() => validateBpfElf(telemetry.slice(0, len))),
      "truncated",
      `length ${len}`,
    );
  }
  assert.equal(validateBpfElf(telemetry.slice()).license, "GPL");
});

Deno.test("validateBpfElf() throws only ValidationError on random corruption", () => {
  // Property: for any byte flips, the validator either accepts or throws ValidationError,
  // never a RangeError/TypeError from reading out of bounds.
  let seed = 42;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let i = 0; i < 2000; i++) {
    const bytes = (i % 2 ? telemetry : minimalXdpObject()).slice();
    const flips = 1 + Math.floor(rand() * 8);
    for (let f = 0; f < flips; f++) {
      // Bias toward the ELF header and section table, where parsing decisions are made.
      const region = rand() < 0.5 ? 64 : bytes.length;
      const at = rand() < 0.5
        ? Math.floor(rand() * region)
        : bytes.length - 1 - Math.floor(rand() * Math.min(bytes.length, 27 * 64));
      bytes[at] = Math.floor(rand() * 256);
    }
    try {
      validateBpfElf(bytes);
    } catch (err) {
      assert.ok(err instanceof ValidationError, `flip ${i}: ${err}`);
    }
  }
});
