/**
 * Tensor backend selection: the one place that decides which TensorFlow.js backend runs.
 *
 * Order of preference: `tensorflow` (native libtensorflow through the optional dependency
 * `@tensorflow/tfjs-node`, when it is installed and loads), then `wasm`
 * (`@tensorflow/tfjs-backend-wasm`, ships its binary, much faster than `cpu`), then
 * `cpu` (plain JavaScript). The environment variable `GRAPH_MMM_BACKEND` forces one
 * (`tensorflow` | `wasm` | `cpu`); `auto` or unset means the order above.
 *
 * The wasm backend runs on one thread unless `GRAPH_MMM_WASM_THREADS` (or the `threads` option)
 * asks for more: see {@link startThreadedWasm}.
 *
 * On wasm, `GRAPH_MMM_MATMUL=blas` (or the `matmul` option) runs the matrix products through
 * OpenBLAS instead (lib/native-matmul.ts); the default is wasm's own kernel.
 *
 * Every entry point (notebooks, scripts, tests that train) calls {@link initBackend} first.
 */
import * as tf from "@tensorflow/tfjs";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { CpuInfo } from "node:os";
import { join } from "node:path";
import * as workerThreads from "node:worker_threads";
import { installLeanEngine, leanEngineRequested } from "./lean-engine";
import { MATMUL_ENV, type MatMulName, activeMatMul, parseMatMulRequest, useMatMul } from "./native-matmul";

export type BackendName = "tensorflow" | "wasm" | "cpu";
export const BACKEND_ENV = "GRAPH_MMM_BACKEND";
/** Threads of the wasm backend's kernel pool (XNNPACK); 1 when unset. */
export const WASM_THREADS_ENV = "GRAPH_MMM_WASM_THREADS";
const ORDER: readonly BackendName[] = ["tensorflow", "wasm", "cpu"];

/** What {@link initBackend} chose, and why. */
export interface BackendChoice {
  /** The backend now active in tfjs. */
  name: BackendName;
  /** What was asked for: a backend name, or "auto". */
  requested: BackendName | "auto";
  /** Backends tried before the chosen one, each with the reason it was passed over. */
  skipped: { name: BackendName; reason: string }[];
  /** Threads of the wasm backend's kernel pool (1 for the other backends). */
  threads: number;
  /** Why the wasm backend runs one thread when more were asked for. */
  threadsSkipped?: string;
  /** The wasm backend's matrix products: its own kernel or OpenBLAS ("wasm" for the other backends). */
  matmul: MatMulName;
  /** Why the products run on wasm's kernel when OpenBLAS was asked for. */
  matmulSkipped?: string;
}

/** Options of {@link initBackend}. */
export interface BackendOptions {
  /** Threads of the wasm backend's kernel pool (default: `GRAPH_MMM_WASM_THREADS`, else 1). */
  threads?: number;
  /** The wasm backend's matrix products (default: `GRAPH_MMM_MATMUL`, else "wasm"); applied at every call. */
  matmul?: MatMulName;
}

/** Parses a thread count (from the environment or an option); throws unless it is an integer 1..8. */
export function parseThreads(value: string | number | undefined): number {
  if (value === undefined || value === "") return 1;
  const n = Number(value);
  if (!(Number.isInteger(n) && n >= 1 && n <= 8)) throw new Error(`${WASM_THREADS_ENV}="${value}" is not a thread count: use an integer from 1 to 8`);
  return n;
}

let current: BackendChoice | undefined;

/** Parses a backend request (from the environment or an argument); throws on an unknown name. */
export function parseBackendRequest(value: string | undefined): BackendName | "auto" {
  const v = (value ?? "").trim().toLowerCase();
  if (v === "" || v === "auto") return "auto";
  if (v === "node" || v === "tfjs-node") return "tensorflow";
  if ((ORDER as readonly string[]).includes(v)) return v as BackendName;
  throw new Error(`${BACKEND_ENV}="${value}" is not a backend: use one of auto, ${ORDER.join(", ")}`);
}

/**
 * Makes the wasm backend's Identity kernel, and its Cast kernel when the dtype does not change,
 * share the input's buffer (reference counted, as the cpu backend's Identity and wasm's own
 * Reshape do) instead of copying it. tfjs clones through Identity every tensor it saves for the
 * backward pass, and the gradient of every product casts its operand to float32, so on wasm a
 * recurrent model's training step spends a large share of its time in these copies. Tensors are
 * immutable in tfjs, so sharing is safe.
 */
function shareNoOpCopiesOnWasm(): void {
  for (const kernelName of ["Identity", "Cast"]) {
    replaceWasmKernel(kernelName, (original) => (args) => {
      const x = args.inputs.x as tf.TensorInfo;
      const dtype = (args.attrs as { dtype?: string } | undefined)?.dtype ?? x.dtype;
      if (x.dtype === "string" || dtype !== x.dtype) return original(args);
      (args.backend as unknown as { incRef(id: unknown): void }).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    });
  }
}

/**
 * Registers `make(original)` as wasm's kernel `kernelName` in place of wasm's own, which it calls
 * where it does not apply; once per process (a replaced kernel is marked and left alone).
 */
function replaceWasmKernel(kernelName: string, make: (original: tf.KernelFunc) => tf.KernelFunc): void {
  const kernel = tf.getKernel(kernelName, "wasm");
  if (!kernel || (kernel as { replaced?: boolean }).replaced) return;
  tf.unregisterKernel(kernelName, "wasm");
  tf.registerKernel({ ...kernel, replaced: true, kernelFunc: make(kernel.kernelFunc as tf.KernelFunc) } as tf.KernelConfig);
}

/** The parts of the wasm backend the slicing kernels use (tfjs-backend-wasm 4.22). */
interface WasmHeap {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/** Copies the box `begin` + `size` of x into a new tensor, from views of the heap. x: any rank. */
function sliceFromHeap(backend: WasmHeap, x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  const count = tf.util.sizeFromShape(size);
  if (count === 0) return out;
  // views taken after the output's allocation, which may grow (and move) the heap
  const xs = backend.typedArrayFromHeap(x);
  const os = backend.typedArrayFromHeap(out);
  const rank = x.shape.length;
  if (rank === 0) {
    os[0] = xs[0];
    return out;
  }
  const strides = [...tf.util.computeStrides(x.shape), 1];
  const run = size[rank - 1];
  const index = new Array<number>(rank - 1).fill(0);
  for (let o = 0; o < count; o += run) {
    let from = begin[rank - 1];
    for (let d = 0; d < rank - 1; d++) from += (begin[d] + index[d]) * strides[d];
    if (run >= 64) os.set(xs.subarray(from, from + run), o);
    else for (let k = 0; k < run; k++) os[o + k] = xs[from + k];
    for (let d = rank - 2; d >= 0 && ++index[d] === size[d]; d--) index[d] = 0;
  }
  return out;
}

/**
 * Makes the wasm backend's Slice and SplitV kernels copy from views of its heap. Its own Slice
 * first copies the whole input out of the heap (`readSync`) and then the slice from that copy,
 * so a GRU's split of its gates into three copied the gate tensor three times over and left it
 * to the garbage collector. The values are the same copies; string tensors keep wasm's kernels.
 */
function sliceWithoutCopiesOnWasm(): void {
  replaceWasmKernel("Slice", (original) => (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.dtype === "string") return original(args);
    const attrs = args.attrs as unknown as { begin: number | number[]; size?: number | number[] };
    const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, attrs.begin, attrs.size);
    return sliceFromHeap(args.backend as unknown as WasmHeap, x, begin, size);
  });
  replaceWasmKernel("SplitV", (original) => (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.dtype === "string") return original(args);
    const attrs = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number | number[] };
    const axis = tf.util.parseAxisParam(attrs.axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, attrs.numOrSizeSplits, axis);
    const split = splitThroughTranspose(args.backend as unknown as WasmHeap, x, axis, sizes);
    if (split) return split;
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((s) => {
      const size = [...x.shape];
      size[axis] = s;
      const part = sliceFromHeap(args.backend as unknown as WasmHeap, x, [...begin], size);
      begin[axis] += s;
      return part;
    });
  });
}

/**
 * Inputs of at least this many elements are split or concatenated in equal parts along an inner
 * axis with one wasm Transpose and contiguous copies ({@link splitThroughTranspose},
 * {@link concatThroughTranspose}): wasm's compiled transpose copies such a gate tensor about four
 * times faster than the element loop of {@link sliceFromHeap}, which wins below it (one more kernel).
 */
const TRANSPOSED_COPY_MIN = 4096;

/** The wasm backend's own Transpose kernel (null when it has none). */
function wasmTranspose(): tf.KernelFunc | null {
  return (tf.getKernel("Transpose", "wasm")?.kernelFunc as tf.KernelFunc | undefined) ?? null;
}

/** x: [outer, parts, inner] -> [parts, outer, inner], through `transpose` (wasm's kernel; float32). */
function transposeParts(transpose: tf.KernelFunc, backend: WasmHeap, x: tf.TensorInfo, outer: number, parts: number, inner: number): tf.TensorInfo {
  const view = { dataId: x.dataId, shape: [outer, parts, inner], dtype: x.dtype };
  return transpose({ inputs: { x: view }, backend: backend as unknown as tf.KernelBackend, attrs: { perm: [1, 0, 2] } }) as tf.TensorInfo;
}

/**
 * Splits x into equal parts along an inner `axis` as one transpose to [parts, outer, inner]
 * (each part then contiguous) and one contiguous copy per part; null where it does not apply
 * (unequal parts, the leading axis, small or non-float32 inputs). The values are copies either way.
 */
function splitThroughTranspose(backend: WasmHeap, x: tf.TensorInfo, axis: number, sizes: readonly number[]): tf.TensorInfo[] | null {
  const count = tf.util.sizeFromShape(x.shape);
  const outer = tf.util.sizeFromShape(x.shape.slice(0, axis));
  if (x.dtype !== "float32" || count < TRANSPOSED_COPY_MIN || outer < 2 || sizes.length < 2 || sizes.some((s) => s !== sizes[0])) return null;
  const transpose = wasmTranspose();
  if (!transpose) return null;
  const parts = sizes.length;
  const inner = count / (outer * parts);
  const t = transposeParts(transpose, backend, x, outer, parts, inner);
  const shape = [...x.shape];
  shape[axis] = sizes[0];
  const block = outer * inner;
  const outs = sizes.map(() => backend.makeOutput(shape, x.dtype));
  // views taken after the outputs' allocation, which may grow (and move) the heap
  const ts = backend.typedArrayFromHeap(t);
  outs.forEach((out, k) => backend.typedArrayFromHeap(out).set(ts.subarray(k * block, (k + 1) * block)));
  (backend as unknown as tf.KernelBackend).disposeData(t.dataId);
  return outs;
}

/**
 * Concatenates equal-shaped inputs along an inner axis as contiguous copies into [parts, outer,
 * inner] and one transpose to [outer, parts, inner]; null where it does not apply (see
 * {@link splitThroughTranspose}).
 */
function concatThroughTranspose(backend: WasmHeap, inputs: readonly tf.TensorInfo[], axis: number, outShape: number[]): tf.TensorInfo | null {
  const first = inputs[0];
  const count = tf.util.sizeFromShape(outShape);
  const outer = tf.util.sizeFromShape(outShape.slice(0, axis));
  const same = inputs.every((x) => x.dtype === "float32" && x.shape.length === first.shape.length && x.shape.every((d, k) => d === first.shape[k]));
  if (!same || count < TRANSPOSED_COPY_MIN || outer < 2 || inputs.length < 2) return null;
  const transpose = wasmTranspose();
  if (!transpose) return null;
  const parts = inputs.length;
  const block = count / parts;
  const inner = block / outer;
  const stacked = backend.makeOutput([parts, outer, inner], "float32");
  const ss = backend.typedArrayFromHeap(stacked);
  inputs.forEach((x, k) => ss.set(backend.typedArrayFromHeap(x), k * block));
  const t = transposeParts(transpose, backend, stacked, parts, outer, inner);
  (backend as unknown as tf.KernelBackend).disposeData(stacked.dataId);
  return { dataId: t.dataId, shape: outShape, dtype: "float32" };
}

/**
 * Writes `inputs` side by side along `axis` into a new tensor of `outShape`, from views of the
 * heap; `inners[i]` is input i's size from `axis` on (the inputs agree before it). One loop of
 * element copies per input and leading index, where wasm's Concat makes a subarray object for
 * each: stacking a recurrent model's 200 steps of [8, 8] along axis 1 took it about 0.6 ms.
 */
function concatFromHeap(backend: WasmHeap, inputs: readonly tf.TensorInfo[], inners: readonly number[], outShape: number[]): tf.TensorInfo {
  const out = backend.makeOutput(outShape, inputs[0].dtype);
  const total = inners.reduce((a, b) => a + b, 0);
  if (total === 0) return out;
  const lead = tf.util.sizeFromShape(outShape) / total;
  // views taken after the output's allocation, which may grow (and move) the heap
  const os = backend.typedArrayFromHeap(out);
  let offset = 0;
  for (let i = 0; i < inputs.length; i++) {
    const d = inners[i];
    if (d === 0) continue;
    const xs = backend.typedArrayFromHeap(inputs[i]);
    if (d >= 64) {
      for (let b = 0; b < lead; b++) os.set(xs.subarray(b * d, b * d + d), b * total + offset);
    } else {
      for (let b = 0; b < lead; b++) {
        const from = b * d;
        const to = b * total + offset;
        for (let k = 0; k < d; k++) os[to + k] = xs[from + k];
      }
    }
    offset += d;
  }
  return out;
}

/**
 * Makes the wasm backend's Pack (stack) and Concat kernels copy with {@link concatFromHeap}, and
 * its Unpack (unstack) copy each part from a view of the heap (wasm's copies the whole input out
 * of the heap once per part: 4 ms to unstack a [100, 200, 8] series into its steps). The values
 * are the same copies; strings and a single input keep wasm's kernels.
 */
function stackWithoutSubarraysOnWasm(): void {
  const copyable = (xs: readonly tf.TensorInfo[]) => xs.length > 1 && xs.every((x) => x.dtype === xs[0].dtype) && ["float32", "int32", "bool"].includes(xs[0].dtype);
  replaceWasmKernel("Pack", (original) => (args) => {
    const xs = args.inputs as unknown as tf.TensorInfo[];
    if (!copyable(xs)) return original(args);
    const shape = xs[0].shape;
    const axis = (args.attrs as unknown as { axis: number }).axis;
    xs.forEach((x) => tf.util.assertShapesMatch(shape, x.shape, "All tensors passed to stack must have matching shapes"));
    const outShape = [...shape.slice(0, axis), xs.length, ...shape.slice(axis)];
    const inner = tf.util.sizeFromShape(shape.slice(axis));
    return concatFromHeap(args.backend as unknown as WasmHeap, xs, xs.map(() => inner), outShape);
  });
  replaceWasmKernel("Unpack", (original) => (args) => {
    const x = args.inputs.value as tf.TensorInfo;
    if (!copyable([x, x])) return original(args);
    const rank = x.shape.length;
    const axis = ((args.attrs as unknown as { axis: number }).axis + rank) % rank;
    const count = x.shape[axis];
    const lead = tf.util.sizeFromShape(x.shape.slice(0, axis));
    const inner = tf.util.sizeFromShape(x.shape.slice(axis + 1));
    const shape = x.shape.filter((_, d) => d !== axis);
    const heap = args.backend as unknown as WasmHeap;
    const outs = Array.from({ length: count }, () => heap.makeOutput(shape, x.dtype));
    // views taken after the outputs' allocation, which may grow (and move) the heap
    const xs = heap.typedArrayFromHeap(x);
    outs.forEach((out, i) => {
      const os = heap.typedArrayFromHeap(out);
      for (let b = 0; b < lead; b++) {
        const from = (b * count + i) * inner;
        if (inner >= 64) os.set(xs.subarray(from, from + inner), b * inner);
        else for (let k = 0; k < inner; k++) os[b * inner + k] = xs[from + k];
      }
    });
    return outs;
  });
  replaceWasmKernel("Concat", (original) => (args) => {
    const xs = args.inputs as unknown as tf.TensorInfo[];
    const nonEmpty = xs.filter((x) => tf.util.sizeFromShape(x.shape) > 0);
    if (!copyable(xs) || nonEmpty.length < 2) return original(args);
    const axis = tf.util.parseAxisParam((args.attrs as unknown as { axis: number | number[] }).axis, xs[0].shape)[0];
    tf.backend_util.assertParamsConsistent(xs.map((x) => x.shape), axis);
    const outShape = tf.backend_util.computeOutShape(xs.map((x) => x.shape), axis);
    // equal shapes of at least its minimum size, so never an empty part
    const joined = concatThroughTranspose(args.backend as unknown as WasmHeap, xs, axis, outShape);
    if (joined) return joined;
    return concatFromHeap(args.backend as unknown as WasmHeap, nonEmpty, nonEmpty.map((x) => tf.util.sizeFromShape(x.shape.slice(axis))), outShape);
  });
}

/** The wasm binary kernels whose kernelFunc is tfjs's `createBinaryKernelConfig` one, with their output dtype (null: the input's). */
const WASM_BINARY_KERNELS: Record<string, tf.DataType | null> = {
  Add: null,
  Sub: null,
  Multiply: null,
  RealDiv: null,
  Maximum: null,
  Minimum: null,
  Pow: null,
  SquaredDifference: null,
  FloorDiv: null,
  Mod: null,
  Atan2: null,
  Greater: "bool",
  GreaterEqual: "bool",
  Less: "bool",
  LessEqual: "bool",
  Equal: "bool",
  NotEqual: "bool",
};

/** wasm's dtype codes (tfjs-backend-wasm's CppDType). */
const CPP_DTYPE: Partial<Record<tf.DataType, number>> = { float32: 0, int32: 1, bool: 2, string: 3, complex64: 4 };

/** Largest operand rank the shape buffer of {@link directBinaryKernelsOnWasm} holds; higher ranks take wasm's own kernel. */
const MAX_RANK = 8;

/** The parts of the wasm backend the direct binary kernels use (tfjs-backend-wasm 4.22). */
interface WasmModule extends WasmHeap {
  dataIdMap: { get(id: object): { id: number } };
  wasm: { HEAP32: Int32Array; _malloc(bytes: number): number; asm?: Record<string, unknown> } & Record<string, unknown>;
}

/**
 * Makes wasm's binary kernels (Add, Sub, Multiply, ...) call their C function directly, with the
 * same arguments (the operands' ids, shapes and ranks, the dtype code, the output's id), the
 * shapes written into a buffer of 2 x {@link MAX_RANK} int32 kept on the wasm heap, instead of
 * through Emscripten's `ccall`, which copies two fresh typed arrays onto the stack per call. Part
 * of the lean engine (lib/lean-engine.ts): `GRAPH_MMM_LEAN_ENGINE=0` keeps wasm's kernels.
 */
function directBinaryKernelsOnWasm(): void {
  for (const [kernelName, outDtype] of Object.entries(WASM_BINARY_KERNELS)) {
    let fn: ((...args: number[]) => void) | null = null;
    let shapes = 0;
    let owner: unknown = null;
    replaceWasmKernel(kernelName, (original) => (args) => {
      const backend = args.backend as unknown as WasmModule;
      const a = args.inputs.a as tf.TensorInfo;
      const b = args.inputs.b as tf.TensorInfo;
      const dtype = CPP_DTYPE[a.dtype];
      if (a.shape.length > MAX_RANK || b.shape.length > MAX_RANK || dtype === undefined) return original(args);
      if (owner !== backend) {
        // the module's export itself (its `_Name` is a wrapper that forwards through `apply` until first called)
        const f = backend.wasm.asm?.[kernelName] ?? backend.wasm[`_${kernelName}`];
        if (typeof f !== "function") return original(args);
        fn = f as (...args: number[]) => void;
        shapes = backend.wasm._malloc(2 * MAX_RANK * 4);
        owner = backend;
      }
      const aId = backend.dataIdMap.get(a.dataId).id;
      const bId = backend.dataIdMap.get(b.dataId).id;
      const shape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
      const out = backend.makeOutput(shape, outDtype ?? a.dtype);
      if (tf.util.sizeFromShape(shape) === 0) return out;
      // written after the output's allocation, which may grow the heap (and renew HEAP32)
      const heap = backend.wasm.HEAP32;
      const at = shapes >> 2;
      for (let k = 0; k < a.shape.length; k++) heap[at + k] = a.shape[k];
      for (let k = 0; k < b.shape.length; k++) heap[at + MAX_RANK + k] = b.shape[k];
      const outId = backend.dataIdMap.get(out.dataId).id;
      fn!(aId, shapes, a.shape.length, bId, shapes + MAX_RANK * 4, b.shape.length, dtype, outId);
      return out;
    });
  }
}

/** The tfjs-backend-wasm release whose bundle {@link startThreadedWasm} knows. */
const THREADED_WASM_VERSION = "4.22.0";

/**
 * Starts the multithreaded build of the wasm backend under Node, with `threads` kernel threads.
 * tfjs 4.22 does not: its flag WASM_HAS_MULTITHREAD_SUPPORT answers false under Node; it starts
 * its pthread workers (a pool of 8, of which the kernel pool uses threads - 1) from `blob:` URLs
 * (the worker script, then the module script each worker loads), which Node's worker_threads
 * cannot load; and it sizes the kernel pool as half the logical cores, at most
 * `setThreadsCount` (one thread on a 2-core machine). For the duration of
 * `tf.setBackend("wasm")` only, this sets the flag, writes both scripts to a temporary folder
 * and hands the workers their paths, reports 2 x threads logical cores, and lets the process
 * exit while the kernel threads wait for work (emscripten holds a reference to them). The module
 * script is the bundle's factory function, which refers to the bundle's own imports
 * (`require$$N`, `commonjsGlobal`): they are declared again at the top of its file. Throws, with
 * everything restored, when the installed release is not the one this knows.
 */
async function startThreadedWasm(threads: number): Promise<void> {
  const wasm = require("@tensorflow/tfjs-backend-wasm") as { setThreadsCount(n: number): void; version_wasm: string };
  if (wasm.version_wasm !== THREADED_WASM_VERSION)
    throw new Error(`threads need @tensorflow/tfjs-backend-wasm ${THREADED_WASM_VERSION}, found ${wasm.version_wasm}`);
  const bundle = readFileSync(require.resolve("@tensorflow/tfjs-backend-wasm"), "utf8");
  const imports = [...bundle.matchAll(/^var (require\$\$\d+) = require\('([^']+)'\);$/gm)].map((m) => `var ${m[1]} = require(${JSON.stringify(m[2])});`);
  if (imports.length !== 4) throw new Error(`threads: the wasm bundle's imports are not the expected four (found ${imports.length})`);
  const prelude = `${imports.join("\n")}\nvar commonjsGlobal = globalThis;\n`;
  // the module object itself (an import would give a namespace of getters), whose cpus the bundle calls
  const os = require("node:os") as { tmpdir(): string; cpus(): CpuInfo[] };
  const texts = new WeakMap<Blob, string>();
  const files = new Map<string, string>();
  let dir: string | null = null;
  const fileOf = (blob: Blob): string => {
    const text = prelude + texts.get(blob);
    let f = files.get(text);
    if (!f) {
      dir ??= mkdtempSync(join(os.tmpdir(), "graph-mmm-wasm-"));
      f = join(dir, `script-${files.size}.js`);
      writeFileSync(f, text);
      files.set(text, f);
    }
    return f;
  };
  const RealBlob = globalThis.Blob;
  const createObjectURL = URL.createObjectURL;
  const Worker = workerThreads.Worker.prototype as { postMessage(msg: unknown, transfer?: unknown): void };
  const postMessage = Worker.postMessage;
  const cpus = os.cpus;
  try {
    globalThis.Blob = class TextBlob extends RealBlob {
      constructor(parts: BlobPart[] = [], options?: BlobPropertyBag) {
        super(parts, options);
        texts.set(this, parts.map(String).join(""));
      }
    };
    URL.createObjectURL = (blob: Blob) => (texts.has(blob) ? fileOf(blob) : createObjectURL(blob));
    Worker.postMessage = function (this: { unref(): void }, msg: unknown, transfer?: unknown) {
      const m = msg as { cmd?: string; urlOrBlob?: unknown };
      const swapped = m?.cmd === "load" && m.urlOrBlob instanceof RealBlob && texts.has(m.urlOrBlob) ? { ...m, urlOrBlob: fileOf(m.urlOrBlob) } : msg;
      postMessage.call(this, swapped, transfer);
      // a kernel thread starts ("run"): it waits for work for the life of the process, which must not keep the process alive
      if (m?.cmd === "run") this.unref();
    };
    os.cpus = () => Array.from({ length: 2 * threads }, () => cpus()[0]);
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", true);
    wasm.setThreadsCount(threads);
    if (!(await tf.setBackend("wasm"))) throw new Error(`tf.setBackend("wasm") failed with ${threads} threads`);
  } catch (err) {
    // back to the single-threaded build for a retry
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    wasm.setThreadsCount(-1);
    throw err;
  } finally {
    globalThis.Blob = RealBlob;
    URL.createObjectURL = createObjectURL;
    Worker.postMessage = postMessage;
    os.cpus = cpus;
    // every worker of the pool has loaded its scripts before the backend is ready
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/** Threads the wasm backend's kernel pool runs. */
function wasmThreads(): number {
  return (require("@tensorflow/tfjs-backend-wasm") as { getThreadsCount(): number }).getThreadsCount();
}

/** Loads the package that registers a backend; returns a reason string when it cannot. */
function register(name: BackendName): string | undefined {
  try {
    if (name === "tensorflow") {
      // Optional dependency: its install downloads libtensorflow, which fails offline.
      require("@tensorflow/tfjs-node");
    } else if (name === "wasm") {
      require("@tensorflow/tfjs-backend-wasm");
      shareNoOpCopiesOnWasm();
      sliceWithoutCopiesOnWasm();
      stackWithoutSubarraysOnWasm();
      if (leanEngineRequested()) directBinaryKernelsOnWasm();
    }
    return tf.findBackendFactory(name) ? undefined : `${name} did not register`;
  } catch (err) {
    const msg = (err as Error).message.split("\n")[0];
    return name === "tensorflow" && /Cannot find module/.test(msg) ? "@tensorflow/tfjs-node is not installed" : msg;
  }
}

/**
 * Activates a backend and reports the choice.
 * @param request a backend name, "auto", or undefined to read `GRAPH_MMM_BACKEND`.
 * @param log where the one-line report goes (stderr by default; pass `null` for silence).
 * @param options the wasm backend's threads (fixed by the first initialisation of a process).
 */
export async function initBackend(
  request?: BackendName | "auto",
  log: ((line: string) => void) | null = (line) => process.stderr.write(line + "\n"),
  options: BackendOptions = {},
): Promise<BackendChoice> {
  const requested = request ?? parseBackendRequest(process.env[BACKEND_ENV]);
  const threads = parseThreads(options.threads ?? process.env[WASM_THREADS_ENV]);
  const matmul = options.matmul ?? parseMatMulRequest(process.env[MATMUL_ENV]);
  let threadsSkipped: string | null = null;
  if (current && (requested === "auto" || requested === current.name) && tf.getBackend() === current.name) {
    if (current.name === "wasm" && current.matmul !== matmul) {
      current = { ...current, ...productsOn(matmul) };
      log?.(describeBackend(current));
    }
    return current;
  }
  const candidates = requested === "auto" ? ORDER : [requested];
  const skipped: BackendChoice["skipped"] = [];
  for (const name of candidates) {
    let reason = register(name);
    if (!reason) {
      try {
        if (name === "wasm" && threads > 1) {
          try {
            await startThreadedWasm(threads);
          } catch (err) {
            // one thread rather than another backend: the report says why
            threadsSkipped = (err as Error).message.split("\n")[0];
          }
        }
        if (tf.getBackend() !== name && !(await tf.setBackend(name))) reason = `tf.setBackend("${name}") failed`;
      } catch (err) {
        reason = (err as Error).message.split("\n")[0];
      }
    }
    if (reason) {
      skipped.push({ name, reason });
      continue;
    }
    await tf.ready();
    installLeanEngine();
    const products = name === "wasm" ? productsOn(matmul) : { matmul: "wasm" as const };
    current = { name, requested, skipped, threads: name === "wasm" ? wasmThreads() : 1, ...(threadsSkipped ? { threadsSkipped } : {}), ...products };
    log?.(describeBackend(current));
    return current;
  }
  throw new Error(`no tensor backend could start (${skipped.map((s) => `${s.name}: ${s.reason}`).join("; ")})`);
}

/** Switches the wasm backend's products to `matmul`, or says why they stay on wasm's kernel. */
function productsOn(matmul: MatMulName): Pick<BackendChoice, "matmul" | "matmulSkipped"> {
  const reason = useMatMul(matmul);
  return reason ? { matmul: activeMatMul(), matmulSkipped: reason } : { matmul };
}

/** One line for logs and notebooks, e.g. `tensor backend: wasm (tensorflow skipped: ...)`. */
export function describeBackend(choice: BackendChoice): string {
  const why = choice.skipped.map((s) => `${s.name} skipped: ${s.reason}`).join("; ");
  const forced = choice.requested === "auto" ? "" : `, forced by ${BACKEND_ENV}`;
  const threads = choice.threads > 1 ? `, ${choice.threads} threads` : choice.threadsSkipped ? `, 1 thread (${choice.threadsSkipped})` : "";
  const products =
    choice.matmul === "blas" ? ", matrix products by OpenBLAS" : choice.matmulSkipped ? `, matrix products by wasm (${choice.matmulSkipped})` : "";
  return `tensor backend: ${choice.name}${threads}${products}${forced}${why ? ` (${why})` : ""}`;
}

/** The active choice, or undefined before {@link initBackend} ran. */
export function currentBackend(): BackendChoice | undefined {
  return current;
}
