/**
 * Trainings shared across the study. Notebooks 05 and 07 train the same DICE Stage 1 runs and
 * decoders as notebook 04 (the same panels, configurations and seeds); with sharing on, a model
 * trained on the same data with the same configuration and seed is trained once, its weights and
 * fit history are kept in the result cache (kind `trained-model`, keyed like a job by the
 * library's version), and where the same training comes again the model gets those weights back
 * bit for bit instead of being trained anew.
 *
 * Sharing is on only with `STUDY_SHARE_TRAINING=1`, which the study runner and the lab set for
 * the notebooks and their jobs, so that a test or one's own script always trains.
 */
import { createHash } from "node:crypto";
import type { FitConfig, FitResult } from "../train/fit";
import type { Trainable } from "../core/trainable";
import type { Graph } from "../graph";
import { cacheKey, defaultCacheDir, readEntry, writeEntry } from "../runner/cache";
import { sharingTrainings } from "../study";
import { tf } from "../tf";
import type { TimePanel } from "./protocol";
import { LIBRARY_VERSION } from "./version";

/** The result cache's kind for shared trainings. */
export const TRAINED_KIND = "trained-model";

const fingerprints = new WeakMap<TimePanel, string>();

/** SHA-256 of what a training can read of a time panel: its values, shape, roles, context, split and true graphs. */
export function panelFingerprint(tp: TimePanel): string {
  let fp = fingerprints.get(tp);
  if (fp) return fp;
  const p = tp.panel;
  const h = createHash("sha256");
  h.update(JSON.stringify({ units: p.units, steps: p.steps, nodes: p.nodes, nodeNames: p.nodeNames, roles: p.roles, split: tp.split, truth: tp.truth }));
  h.update(Buffer.from(p.values.buffer, p.values.byteOffset, p.values.byteLength));
  if (p.context)
    h.update(JSON.stringify(p.context.names)).update(Buffer.from(p.context.values.buffer, p.context.values.byteOffset, p.context.values.byteLength));
  fp = h.digest("hex");
  fingerprints.set(tp, fp);
  return fp;
}

/** SHA-256 of per-unit graphs (e.g. the supports a decoder is supplied with). */
export function graphsFingerprint(graphs: readonly Graph[]): string {
  return createHash("sha256").update(JSON.stringify(graphs)).digest("hex");
}

/** A shared training: each parameter's shape and float32 values (base64), and the fit's result. */
interface SavedTraining {
  params: Record<string, { shape: number[]; data: string }>;
  fit: FitResult;
}

function saveParams(model: Trainable): SavedTraining["params"] {
  const out: SavedTraining["params"] = {};
  for (const name of model.params.names()) {
    const v = model.params.get(name);
    const data = v.dataSync() as Float32Array;
    out[name] = { shape: [...v.shape], data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64") };
  }
  return out;
}

/** Puts saved values into the model's parameters; false (nothing assigned) when they do not match its parameters. */
function restoreParams(model: Trainable, saved: SavedTraining["params"]): boolean {
  const names = model.params.names();
  if (names.length !== Object.keys(saved).length) return false;
  const values = new Map<string, tf.Tensor>();
  try {
    for (const name of names) {
      const s = saved[name];
      const v = model.params.get(name);
      if (!s || s.shape.join("x") !== v.shape.join("x")) return false;
      const bytes = Buffer.from(s.data, "base64");
      if (bytes.length !== v.size * 4) return false;
      const data = new Float32Array(v.size);
      new Uint8Array(data.buffer).set(bytes);
      values.set(name, tf.tensor(data, v.shape));
    }
    model.params.assign(values);
    return true;
  } finally {
    tf.dispose([...values.values()]);
  }
}

/**
 * Runs `train` (which fits `model` in place), or, with sharing on and the same training stored,
 * gives `model` the stored weights and returns the stored fit result. The training is identified
 * by the model's kind and configuration (`model.spec`, its seed included), `data` (what it is
 * trained on: a panel fingerprint and the batching) and the fit configuration without its
 * progress label. Trainings that write checkpoints are never shared.
 */
export async function trainOnce(model: Trainable, data: unknown, fitConfig: Partial<FitConfig>, train: () => Promise<FitResult>): Promise<FitResult> {
  if (!sharingTrainings() || fitConfig.checkpointDir) return train();
  const { label: _label, ...fitKey } = fitConfig;
  const config = { model: model.kind, spec: model.spec, data, fit: fitKey };
  const key = cacheKey(TRAINED_KIND, LIBRARY_VERSION, config);
  const dir = defaultCacheDir();
  const id = { kind: TRAINED_KIND, version: LIBRARY_VERSION, key };
  const stored = readEntry<SavedTraining>(dir, id);
  if (stored && restoreParams(model, stored.result.params)) return stored.result.fit;
  const t0 = Date.now();
  const fit = await train();
  const result: SavedTraining = { params: saveParams(model), fit };
  writeEntry(dir, { ...id, config, result, seconds: (Date.now() - t0) / 1000, pid: process.pid, backend: tf.getBackend() });
  return fit;
}
