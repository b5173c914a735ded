/**
 * Tensor backend selection: the one place that decides which TensorFlow.js backend runs.
 *
 * Order of preference: `tensorflow` (native libtensorflow through the optional dependency
 * `@tensorflow/tfjs-node`, when it is installed and loads), then `wasm`
 * (`@tensorflow/tfjs-backend-wasm`, ships its binary, much faster than `cpu`), then
 * `cpu` (plain JavaScript). The environment variable `GRAPH_MMM_BACKEND` forces one
 * (`tensorflow` | `wasm` | `cpu`); `auto` or unset means the order above.
 *
 * Every entry point (notebooks, scripts, tests that train) calls {@link initBackend} first.
 */
import * as tf from "@tensorflow/tfjs";

export type BackendName = "tensorflow" | "wasm" | "cpu";
export const BACKEND_ENV = "GRAPH_MMM_BACKEND";
const ORDER: readonly BackendName[] = ["tensorflow", "wasm", "cpu"];

/** What {@link initBackend} chose, and why. */
export interface BackendChoice {
  /** The backend now active in tfjs. */
  name: BackendName;
  /** What was asked for: a backend name, or "auto". */
  requested: BackendName | "auto";
  /** Backends tried before the chosen one, each with the reason it was passed over. */
  skipped: { name: BackendName; reason: string }[];
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
    const original = tf.getKernel(kernelName, "wasm");
    if (!original || (original as { shared?: boolean }).shared) continue;
    tf.unregisterKernel(kernelName, "wasm");
    tf.registerKernel({
      ...original,
      shared: true,
      kernelFunc: (args) => {
        const x = args.inputs.x as tf.TensorInfo;
        const dtype = (args.attrs as { dtype?: string } | undefined)?.dtype ?? x.dtype;
        if (x.dtype === "string" || dtype !== x.dtype) return (original.kernelFunc as tf.KernelFunc)(args);
        (args.backend as unknown as { incRef(id: unknown): void }).incRef(x.dataId);
        return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
      },
    } as tf.KernelConfig);
  }
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
 */
export async function initBackend(
  request?: BackendName | "auto",
  log: ((line: string) => void) | null = (line) => process.stderr.write(line + "\n"),
): Promise<BackendChoice> {
  const requested = request ?? parseBackendRequest(process.env[BACKEND_ENV]);
  if (current && (requested === "auto" || requested === current.name) && tf.getBackend() === current.name) {
    return current;
  }
  const candidates = requested === "auto" ? ORDER : [requested];
  const skipped: BackendChoice["skipped"] = [];
  for (const name of candidates) {
    let reason = register(name);
    if (!reason) {
      try {
        if (!(await tf.setBackend(name))) reason = `tf.setBackend("${name}") failed`;
      } catch (err) {
        reason = (err as Error).message.split("\n")[0];
      }
    }
    if (reason) {
      skipped.push({ name, reason });
      continue;
    }
    await tf.ready();
    current = { name, requested, skipped };
    log?.(describeBackend(current));
    return current;
  }
  throw new Error(`no tensor backend could start (${skipped.map((s) => `${s.name}: ${s.reason}`).join("; ")})`);
}

/** One line for logs and notebooks, e.g. `tensor backend: wasm (tensorflow skipped: ...)`. */
export function describeBackend(choice: BackendChoice): string {
  const why = choice.skipped.map((s) => `${s.name} skipped: ${s.reason}`).join("; ");
  const forced = choice.requested === "auto" ? "" : `, forced by ${BACKEND_ENV}`;
  return `tensor backend: ${choice.name}${forced}${why ? ` (${why})` : ""}`;
}

/** The active choice, or undefined before {@link initBackend} ran. */
export function currentBackend(): BackendChoice | undefined {
  return current;
}
