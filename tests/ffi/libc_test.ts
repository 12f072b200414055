import assert from "node:assert/strict";
import { cString, libc, LibcError } from "../../ffi/libc.ts";

Deno.test("libc resolves interface names and indexes both ways", () => {
  const c = libc();
  const lo = c.ifNameToIndex("lo");
  assert.ok(lo > 0);
  assert.equal(c.ifIndexToName(lo), "lo");
  assert.equal(c.ifNameToIndex("x0-no-such-if"), 0);
  assert.equal(c.ifIndexToName(0x7ffffff0), null);
});

Deno.test("libc reads /proc files that Deno refuses without --allow-all", () => {
  const status = libc().readTextFile("/proc/self/status");
  assert.match(status, /^Name:/m);
  assert.match(libc().readTextFile("/proc/net/dev"), /\blo:/);
});

Deno.test("libc reports errno on failure", () => {
  assert.throws(() => libc().openReadOnly("/nonexistent/x0"), (err: unknown) => {
    assert.ok(err instanceof LibcError);
    assert.equal(err.errno, 2);
    assert.match(err.message, /No such file or directory/);
    return true;
  });
});

Deno.test("processExists() tells live pids from impossible ones", () => {
  assert.equal(libc().processExists(Deno.pid), true);
  assert.equal(libc().processExists(0), false);
  assert.equal(libc().processExists(-5), false);
  assert.equal(libc().processExists(2 ** 22 + 7), false);
});

Deno.test("cString() NUL-terminates and refuses embedded NULs", () => {
  assert.deepEqual([...cString("ab")], [97, 98, 0]);
  assert.throws(() => cString("a\0b"), TypeError);
});

Deno.test("interfaceDriver() returns null where ethtool has no driver information", () => {
  assert.equal(libc().interfaceDriver("x0-no-such-if"), null);
  assert.equal(libc().interfaceDriver("lo"), null, "loopback implements no get_drvinfo");
  assert.equal(libc().interfaceDriver("x".repeat(20)), null, "names longer than IFNAMSIZ");
});
