/**
 * Model registry: rebuilds a model from its `kind` and JSON configuration. Worker threads and
 * checkpoints use it; a model type registers itself here by being listed.
 */
import type { Trainable } from "../train/trainable";
import { CausalMMM, type CausalMMMConfig } from "./causalmmm";
import { DeepCausalMMM, type DeepCausalMMMInput } from "./deepcausalmmm";
import { DiceStage1, type DiceStage1Config } from "./dice-stage1";
import { GraphSafeDecoder, type GraphSafeConfig, JointGruDecoder, type JointGruConfig } from "./graph-safe";

type Builder = (spec: Record<string, unknown>) => Trainable;

const BUILDERS: Record<string, Builder> = {
  causalmmm: (spec) => new CausalMMM(spec as unknown as CausalMMMConfig),
  deepcausalmmm: (spec) => new DeepCausalMMM(spec as unknown as DeepCausalMMMInput),
  "dice-stage1": (spec) => new DiceStage1(spec as unknown as DiceStage1Config),
  "graph-safe": (spec) => new GraphSafeDecoder(spec as unknown as GraphSafeConfig),
  "joint-gru": (spec) => new JointGruDecoder(spec as unknown as JointGruConfig),
};

/** Registers another model type (e.g. from a later module). */
export function registerModel(kind: string, build: Builder): void {
  BUILDERS[kind] = build;
}

export function buildModel(kind: string, spec: Record<string, unknown>): Trainable {
  const build = BUILDERS[kind];
  if (!build) throw new Error(`unknown model kind "${kind}" (known: ${Object.keys(BUILDERS).join(", ")})`);
  return build(spec);
}
