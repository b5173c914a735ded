/**
 * Checkpoints in TensorFlow.js's own format: `model.json` (a `weightsManifest` with the weight
 * specs, as tfjs writes it, plus the study's own fields) and `weights.bin` (the concatenated
 * float32 values). Parameters are stored by name; the optimiser's state in its own order.
 * Written atomically (temporary folder, then rename), so a checkpoint is complete or absent.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { ParamStore } from "../core/params";
import { tf } from "../tf";

export interface CheckpointMeta {
  /** Model registry key and configuration. */
  kind: string;
  spec: Record<string, unknown>;
  /** Epochs completed. */
  epoch: number;
  /** Anything JSON the trainer wants back (history, best score...). */
  state: Record<string, unknown>;
}

interface ModelJson {
  format: "graph-mmm-checkpoint";
  generatedBy: string;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  optimizerWeights: number;
  meta: CheckpointMeta;
}

/** Saves parameters (by name) and optimiser weights (in order) to `dir`. */
export async function saveCheckpoint(
  dir: string,
  params: ParamStore,
  optimizerWeights: { name: string; tensor: tf.Tensor }[],
  meta: CheckpointMeta,
): Promise<void> {
  const named: tf.NamedTensorMap = {};
  for (const name of params.names()) named[`param/${name}`] = params.get(name);
  optimizerWeights.forEach((w, i) => {
    named[`optimizer/${i}`] = w.tensor;
  });
  const { data, specs } = await tf.io.encodeWeights(named);
  const json: ModelJson = {
    format: "graph-mmm-checkpoint",
    generatedBy: `TensorFlow.js ${tf.version.tfjs}`,
    weightsManifest: [{ paths: ["weights.bin"], weights: specs }],
    optimizerWeights: optimizerWeights.length,
    meta,
  };
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, "weights.bin"), Buffer.from(data));
  writeFileSync(join(tmp, "model.json"), JSON.stringify(json, null, 1));
  mkdirSync(dirname(dir), { recursive: true });
  const old = `${dir}.old-${process.pid}`;
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(tmp, dir);
  rmSync(old, { recursive: true, force: true });
}

export interface LoadedCheckpoint {
  meta: CheckpointMeta;
  /** Optimiser weights in saved order (caller disposes). */
  optimizerWeights: tf.Tensor[];
}

export function hasCheckpoint(dir: string): boolean {
  return existsSync(join(dir, "model.json")) && existsSync(join(dir, "weights.bin"));
}

/** Loads a checkpoint's parameters into `params` (names and shapes must match). */
export function loadCheckpoint(dir: string, params: ParamStore): LoadedCheckpoint {
  const file = join(dir, "model.json");
  if (!hasCheckpoint(dir)) throw new Error(`no checkpoint in ${dir} (model.json and weights.bin expected)`);
  const json = JSON.parse(readFileSync(file, "utf8")) as ModelJson;
  if (json.format !== "graph-mmm-checkpoint") throw new Error(`${file} is not a graph-mmm checkpoint`);
  const bin = readFileSync(join(dir, "weights.bin"));
  const buffer = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength);
  const tensors = tf.io.decodeWeights(
    buffer,
    json.weightsManifest.flatMap((g) => g.weights),
  );
  try {
    const values = new Map<string, tf.Tensor>();
    for (const [k, t] of Object.entries(tensors)) if (k.startsWith("param/")) values.set(k.slice(6), t);
    params.assign(values);
    const optimizerWeights = Array.from({ length: json.optimizerWeights }, (_, i) => {
      const t = tensors[`optimizer/${i}`];
      if (!t) throw new Error(`${file}: optimizer weight ${i} missing`);
      return t.clone();
    });
    return { meta: json.meta, optimizerWeights };
  } finally {
    tf.dispose(Object.values(tensors));
  }
}
