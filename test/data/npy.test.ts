import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { encodeNpy, parseNpy, readNpy, writeNpy } from "../../lib/data/npy";
import { assertDataError, tempDir } from "./helpers";

/** A .npy with an arbitrary header dict (version 1 or 2) and raw data bytes. */
function rawNpy(header: string, data: Buffer, major = 1): Buffer {
  const lenBytes = major === 1 ? 2 : 4;
  const pre = 8 + lenBytes;
  let h = header;
  h += " ".repeat((64 - ((pre + h.length + 1) % 64)) % 64) + "\n";
  const out = Buffer.alloc(pre + h.length);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]).copy(out, 0);
  if (major === 1) out.writeUInt16LE(h.length, 8);
  else out.writeUInt32LE(h.length, 8);
  out.write(h, pre, "latin1");
  return Buffer.concat([out, data]);
}

function f8(values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 8);
  values.forEach((v, k) => b.writeDoubleLE(v, k * 8));
  return b;
}

describe("npy reader", () => {
  const dir = tempDir();

  it("reads float64 arrays in C order (v1 header)", () => {
    const file = join(dir, "a.npy");
    const data = Array.from({ length: 24 }, (_, k) => k * 0.5 - 3);
    writeNpy(file, data, [2, 3, 4]);
    const a = readNpy(file);
    assert.deepEqual(a.shape, [2, 3, 4]);
    assert.equal(a.dtype, "<f8");
    assert.equal(a.version, "1.0");
    assert.deepEqual(Array.from(a.data), data);
  });

  it("reads float32 arrays and widens them to float64", () => {
    const file = join(dir, "f4.npy");
    writeNpy(file, [0.1, -2.5, 3], [3], "<f4");
    const a = readNpy(file);
    assert.equal(a.dtype, "<f4");
    assert.deepEqual(a.shape, [3]);
    assert.deepEqual(Array.from(a.data), [Math.fround(0.1), -2.5, 3]);
  });

  it("reads version 2.0 headers and 0-d / 1-d shapes", () => {
    const a = parseNpy(rawNpy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", f8([1, 2]), 2), "v2.npy");
    assert.equal(a.version, "2.0");
    assert.deepEqual(a.shape, [2]);
    assert.deepEqual(Array.from(a.data), [1, 2]);
    const s = parseNpy(rawNpy("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", f8([7])), "scalar.npy");
    assert.deepEqual(s.shape, []);
    assert.deepEqual(Array.from(s.data), [7]);
  });

  it("rejects a wrong dtype, naming the file and the descr field", () => {
    const file = join(dir, "int.npy");
    writeFileSync(file, rawNpy("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", f8([1, 2])));
    assertDataError(() => readNpy(file), { file, column: "descr", match: /wrong dtype '<i8'/ });
  });

  it("rejects object arrays (what NumPy writes for ragged arrays) with a hint", () => {
    const file = join(dir, "ragged-object.npy");
    writeFileSync(file, rawNpy("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", Buffer.from("pickle-bytes")));
    assertDataError(() => readNpy(file), { file, column: "descr", match: /ragged/ });
  });

  it("rejects big-endian data", () => {
    const file = join(dir, "be.npy");
    writeFileSync(file, rawNpy("{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }", f8([1])));
    assertDataError(() => readNpy(file), { file, column: "descr", match: /big-endian/ });
  });

  it("rejects Fortran order", () => {
    const file = join(dir, "fortran.npy");
    writeFileSync(file, rawNpy("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }", f8([1, 2, 3, 4])));
    assertDataError(() => readNpy(file), { file, column: "fortran_order" });
  });

  it("rejects a truncated (ragged) data section, naming the file", () => {
    const file = join(dir, "truncated.npy");
    const full = encodeNpy([1, 2, 3, 4, 5, 6], [2, 3]);
    writeFileSync(file, full.subarray(0, full.length - 8));
    assertDataError(() => readNpy(file), { file, column: "data", match: /truncated or ragged data: shape \(2, 3\) of <f8 needs 48 bytes, the file has 40/ });
  });

  it("rejects trailing bytes (shape does not match the byte length)", () => {
    const file = join(dir, "trailing.npy");
    writeFileSync(file, Buffer.concat([encodeNpy([1, 2], [2]), Buffer.alloc(8)]));
    assertDataError(() => readNpy(file), { file, column: "data", match: /8 trailing bytes/ });
  });

  it("rejects a file that is not .npy and a missing file", () => {
    const file = join(dir, "not.npy");
    writeFileSync(file, "hello world, not numpy");
    assertDataError(() => readNpy(file), { file, column: "magic" });
    const missing = join(dir, "missing.npy");
    assertDataError(() => readNpy(missing), { file: missing, match: /cannot read/ });
  });

  it("rejects a header without a shape", () => {
    const file = join(dir, "noshape.npy");
    writeFileSync(file, rawNpy("{'descr': '<f8', 'fortran_order': False, }", f8([1])));
    assertDataError(() => readNpy(file), { file, column: "header", match: /shape/ });
  });
});
