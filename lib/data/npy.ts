/**
 * A reader (and a small writer, for tests and fixtures) of NumPy `.npy` files.
 *
 * Supported: format versions 1.0, 2.0 and 3.0 headers; dtypes `<f8` (float64) and `<f4`
 * (float32), little-endian; C order. Everything else fails with a `DataError` naming the file:
 * a wrong magic string, a header that is not a dict literal, another dtype (including `|O`,
 * which is what `np.save` writes for a ragged array of arrays), `fortran_order: True`, and a
 * data section whose byte length does not match the shape (truncated or with trailing bytes).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { DataError } from "./errors";

/** The dtypes this reader accepts. */
export type NpyDtype = "<f8" | "<f4";
const DTYPES: Record<NpyDtype, number> = { "<f8": 8, "<f4": 4 };

/** A loaded array: `data` in C order (last index fastest), always widened to float64. */
export interface NpyArray {
  file: string;
  dtype: NpyDtype;
  shape: number[];
  /** values: [prod(shape)], C order. */
  data: Float64Array;
  /** Format version of the header, e.g. "1.0". */
  version: string;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Reads a `.npy` file. */
export function readNpy(file: string): NpyArray {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw new DataError({ file }, `cannot read: ${(e as Error).message}`);
  }
  return parseNpy(buf, file);
}

/** Parses the bytes of a `.npy` file; `file` names it in errors. */
export function parseNpy(buf: Uint8Array, file = "<npy>"): NpyArray {
  const fail = (what: string, detail: string): never => {
    throw new DataError({ file, column: what }, detail);
  };
  if (buf.length < 10 || MAGIC.some((b, k) => buf[k] !== b)) fail("magic", "not a NumPy .npy file (the magic string \\x93NUMPY is missing)");
  const major = buf[6];
  const minor = buf[7];
  if (major < 1 || major > 3) fail("version", `unsupported .npy format version ${major}.${minor} (1, 2 or 3 expected)`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (buf.length < 8 + lenBytes) fail("header", "the file ends inside the header length field");
  const headerLen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const start = 8 + lenBytes;
  if (buf.length < start + headerLen) fail("header", `truncated header: ${headerLen} bytes announced, ${buf.length - start} present`);
  const header = Buffer.from(buf.subarray(start, start + headerLen))
    .toString(major === 3 ? "utf8" : "latin1")
    .trim();
  const dict = parseHeader(header, (d) => fail("header", d));
  const dtype = dict.descr;
  if (!(dtype in DTYPES)) {
    const objectArray = " (an object array: NumPy writes this for a ragged array of unequal-length rows)";
    const hint = dtype === "|O" || dtype === "O" ? objectArray : dtype.startsWith(">") ? " (big-endian)" : "";
    fail("descr", `wrong dtype '${dtype}'${hint}: only '<f8' (float64) and '<f4' (float32) are supported`);
  }
  if (dict.fortranOrder) fail("fortran_order", "fortran_order is True: only C-order arrays are supported (save with np.ascontiguousarray)");
  const itemSize = DTYPES[dtype as NpyDtype];
  const count = dict.shape.reduce((a, b) => a * b, 1);
  const dataStart = start + headerLen;
  const have = buf.length - dataStart;
  const want = count * itemSize;
  if (have < want) fail("data", `truncated or ragged data: shape (${dict.shape.join(", ")}) of ${dtype} needs ${want} bytes, the file has ${have}`);
  if (have > want) {
    fail("data", `ragged data: shape (${dict.shape.join(", ")}) of ${dtype} needs ${want} bytes, the file has ${have} (${have - want} trailing bytes)`);
  }
  const data = new Float64Array(count);
  const ddv = new DataView(buf.buffer, buf.byteOffset + dataStart, want);
  if (itemSize === 8) for (let k = 0; k < count; k++) data[k] = ddv.getFloat64(k * 8, true);
  else for (let k = 0; k < count; k++) data[k] = ddv.getFloat32(k * 4, true);
  return { file, dtype: dtype as NpyDtype, shape: dict.shape, data, version: `${major}.${minor}` };
}

/** Parses the Python dict literal of the header: `{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }`. */
function parseHeader(h: string, fail: (detail: string) => never): { descr: string; fortranOrder: boolean; shape: number[] } {
  if (!h.startsWith("{") || !h.endsWith("}")) fail(`the header is not a Python dict literal: ${JSON.stringify(h.slice(0, 80))}`);
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(h);
  if (!descr) fail(`the header has no string 'descr' entry (structured dtypes are not supported): ${h}`);
  const fo = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(h);
  if (!fo) fail(`the header has no 'fortran_order' entry: ${h}`);
  const sh = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(h);
  if (!sh) fail(`the header has no 'shape' tuple: ${h}`);
  const parts = sh![1]
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  const shape = parts.map((p) => {
    if (!/^\d+L?$/.test(p)) fail(`shape entry '${p}' is not a non-negative integer`);
    return parseInt(p, 10);
  });
  return { descr: descr![1], fortranOrder: fo![1] === "True", shape };
}

/** Serialises an array as a version-1.0 `.npy` (C order), header padded to 64 bytes like NumPy. */
export function encodeNpy(data: ArrayLike<number>, shape: readonly number[], dtype: NpyDtype = "<f8"): Buffer {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new Error(`encodeNpy: shape (${shape.join(", ")}) needs ${count} values, got ${data.length}`);
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '${dtype}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  const total = 10 + header.length + 1;
  header += " ".repeat((64 - (total % 64)) % 64) + "\n";
  const size = DTYPES[dtype];
  const out = Buffer.alloc(10 + header.length + count * size);
  Buffer.from(MAGIC).copy(out, 0);
  out[6] = 1;
  out[7] = 0;
  out.writeUInt16LE(header.length, 8);
  out.write(header, 10, "latin1");
  const off = 10 + header.length;
  for (let k = 0; k < count; k++) {
    if (size === 8) out.writeDoubleLE(data[k], off + k * 8);
    else out.writeFloatLE(data[k], off + k * 4);
  }
  return out;
}

/** Writes a `.npy` file (see `encodeNpy`). */
export function writeNpy(file: string, data: ArrayLike<number>, shape: readonly number[], dtype: NpyDtype = "<f8"): void {
  writeFileSync(file, encodeNpy(data, shape, dtype));
}
