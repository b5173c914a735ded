/**
 * Matrix products of the wasm backend through a native BLAS: `native/matmul.c`, a Node-API addon
 * that `scripts/setup.mjs` compiles when a C compiler, Node's headers and OpenBLAS are present,
 * multiplies the wasm heap's float32 tensors in place with `cblas_sgemm` on the calling thread.
 * Products are most of a recurrent model's training time, and OpenBLAS runs them several times
 * faster than the wasm build of XNNPACK. Every other kernel stays wasm's. It is a choice of
 * {@link initBackend} (`GRAPH_MMM_MATMUL=blas`), off by default: its numbers differ from the wasm
 * kernel's in float32 rounding, so a seed reproduces its numbers only with the same choice.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type * as TF from "@tensorflow/tfjs";

/** tfjs, loaded when a kernel is swapped: the request parsing here is also read by processes without tensors (the runner's cache keys). */
const tfjs = (): typeof TF => require("@tensorflow/tfjs") as typeof TF;

/** How the wasm backend multiplies matrices: its own kernel (XNNPACK) or the native BLAS addon. */
export type MatMulName = "wasm" | "blas";
export const MATMUL_ENV = "GRAPH_MMM_MATMUL";
/** Where the addon is looked for (default: `native/build/matmul.node` in the repository). */
export const MATMUL_ADDON_ENV = "GRAPH_MMM_MATMUL_ADDON";

interface Addon {
  gemm(
    a: Float32Array,
    b: Float32Array,
    out: Float32Array,
    batch: number,
    m: number,
    k: number,
    n: number,
    ta: number,
    tb: number,
    sa: number,
    sb: number,
  ): void;
}

/** The parts of the wasm backend the kernel uses (tfjs-backend-wasm 4.22). */
interface WasmBackend {
  makeOutput(shape: number[], dtype: TF.DataType): TF.TensorInfo;
  typedArrayFromHeap(t: TF.TensorInfo): Float32Array;
}

/** Parses a products request; throws on an unknown name. */
export function parseMatMulRequest(value: string | undefined): MatMulName {
  const v = (value ?? "").trim().toLowerCase();
  if (v === "" || v === "wasm") return "wasm";
  if (v === "blas" || v === "openblas" || v === "native") return "blas";
  throw new Error(`${MATMUL_ENV}="${value}" is not a product kernel: use wasm or blas`);
}

/** The addon's path: `GRAPH_MMM_MATMUL_ADDON`, else native/build/matmul.node beside lib/ (source or build/). */
export function matMulAddonPath(): string {
  const asked = process.env[MATMUL_ADDON_ENV];
  if (asked) return asked;
  const candidates = [join(__dirname, "..", "native", "build", "matmul.node"), join(__dirname, "..", "..", "native", "build", "matmul.node")];
  return candidates.find((p) => existsSync(p)) ?? candidates[candidates.length - 1];
}

let loaded: Addon | undefined;

/** Loads the addon; returns why it cannot (one line) instead of throwing. */
function loadAddon(): Addon | string {
  if (loaded) return loaded;
  const path = matMulAddonPath();
  if (!existsSync(path)) return `the native product addon is not built (${path}; scripts/setup.mjs builds it when gcc, Node's headers and OpenBLAS are there)`;
  try {
    loaded = require(path) as Addon;
    return loaded;
  } catch (err) {
    return `the native product addon does not load: ${(err as Error).message.split("\n")[0]}`;
  }
}

/**
 * The BatchMatMul kernel on the addon: the same shapes, flags and broadcasting of a batch of one
 * as wasm's kernel, which it hands anything else (other dtypes, batch shapes that broadcast
 * otherwise).
 */
function blasBatchMatMul(addon: Addon, fallback: TF.KernelFunc): TF.KernelFunc {
  const tf = tfjs();
  return (args) => {
    const { a, b } = args.inputs as { a: TF.TensorInfo; b: TF.TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
    const backend = args.backend as unknown as WasmBackend;
    const ra = a.shape.length;
    const rb = b.shape.length;
    const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
    const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
    const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
    const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
    const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
    const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
    const sameOuter = tf.util.arraysEqual(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const outer = sameOuter || batchB === 1 ? a.shape.slice(0, -2) : batchA === 1 ? b.shape.slice(0, -2) : null;
    if (a.dtype !== "float32" || b.dtype !== "float32" || k !== kb || outer === null) return fallback(args);
    const batch = Math.max(batchA, batchB);
    const out = backend.makeOutput([...outer, m, n], "float32");
    // views taken after the output's allocation, which may grow (and move) the heap
    addon.gemm(
      backend.typedArrayFromHeap(a),
      backend.typedArrayFromHeap(b),
      backend.typedArrayFromHeap(out),
      batch,
      m,
      k,
      n,
      transposeA ? 1 : 0,
      transposeB ? 1 : 0,
      batchA === 1 ? 0 : m * k,
      batchB === 1 ? 0 : k * n,
    );
    return out;
  };
}

let active: MatMulName = "wasm";
let wasmKernel: TF.KernelConfig | undefined;

/**
 * Makes the wasm backend's BatchMatMul run on `name` ("blas": the addon; "wasm": its own
 * kernel). Returns null when it did, else why not (the wasm kernel then stays). Call it after
 * the wasm backend is registered.
 */
export function useMatMul(name: MatMulName): string | null {
  if (name === active) return null;
  const tf = tfjs();
  wasmKernel ??= tf.getKernel("BatchMatMul", "wasm");
  if (!wasmKernel) return "the wasm backend has no BatchMatMul kernel to replace";
  if (name === "blas") {
    const addon = loadAddon();
    if (typeof addon === "string") return addon;
    tf.unregisterKernel("BatchMatMul", "wasm");
    tf.registerKernel({ ...wasmKernel, kernelFunc: blasBatchMatMul(addon, wasmKernel.kernelFunc) });
  } else {
    tf.unregisterKernel("BatchMatMul", "wasm");
    tf.registerKernel(wasmKernel);
  }
  active = name;
  return null;
}

/** The products this process's environment asks for (`GRAPH_MMM_MATMUL`). */
export function requestedMatMul(): MatMulName {
  return parseMatMulRequest(process.env[MATMUL_ENV]);
}

/** The product kernel the wasm backend runs now. */
export function activeMatMul(): MatMulName {
  return active;
}
