/**
 * The study's model variants, created in one place. A variant is a typed spec (which model, and
 * for a decoder which graph it is supplied with); `createRun` trains it on a time panel and
 * returns one `Run` shape whatever the variant: its name and label, the model, a forecaster, the
 * graphs it decodes with, its fit history and its graph evidence (edge scores and their ranking
 * against the truth). Every study (bypass, swap, stress, budget, diagnose) asks for variants by
 * spec; no other module maps variant names to models or graphs.
 */
import { scoreGraphs } from "../diagnostics/ranking";
import { type Graph, emptyGraph, fullGraph } from "../graph";
import { DeepCausalMMM, type DeepCausalMMMConfig, deepCausalConfigFor, regionExtras } from "../models/deepcausalmmm";
import { type GrangerConfig, fitGranger } from "../models/granger";
import { type PcmciInput, fitPcmci } from "../models/pcmci";
import { GraphSafeDecoder, JointGruDecoder } from "../models/graph-safe";
import type { SupportSelection } from "../models/support";
import { scaleValue, targetIndex } from "../data/panel";
import { graphExtras } from "../train/batches";
import { type CausalMMMExperimentConfig, trainCausalMMMOnTrainingWindow } from "./causalmmm";
import { type Stage1Config, STAGE1_DEFAULTS, type Stage1Run, selectSupportByValidation, stage1Graphs, trainStage1 } from "./dice";
import {
  type DecoderName,
  type DecoderTrainConfig,
  type ForecastingRun,
  type GraphEvidence,
  type Run,
  type TimePanel,
  VARIANT_LABELS,
  decoderTrainConfig,
  trainOnWindows,
} from "./protocol";
import { graphsFingerprint } from "./trained";

export type { DecoderName, ForecastingRun, GraphEvidence, Run, VariantName } from "./protocol";
export { VARIANT_LABELS } from "./protocol";

/** A variant to train: which model, with its own configuration. */
export type VariantSpec =
  | { kind: "decoder"; decoder: DecoderName; config?: Partial<DecoderTrainConfig> }
  | { kind: "dice-stage1"; config?: Partial<Stage1Config> }
  | { kind: "causalmmm"; config?: Partial<CausalMMMExperimentConfig> }
  | { kind: "granger"; scope: "pooled" | "unit"; config?: Partial<GrangerConfig> }
  | { kind: "pcmci"; config?: PcmciInput }
  | { kind: "deepcausalmmm"; model?: Partial<DeepCausalMMMConfig>; config?: Partial<DecoderTrainConfig> };

/** What some variants need besides the panel: the Stage 1 run DICE-hard / DICE-soft decode from. */
export interface RunContext {
  seed: number;
  /** The DICE Stage 1 run of this seed (DICE-hard and DICE-soft). */
  stage1?: Stage1Run;
  /** Its selected support (DICE-hard); the validation-MSE threshold when omitted. */
  selection?: SupportSelection;
  /**
   * The graphs per unit DICE-hard or DICE-soft decodes with, computed elsewhere (the selected
   * support, or Stage 1's probabilities, e.g. in the process that trained Stage 1): used
   * instead of `stage1` and `selection`.
   */
  graphs?: Graph[];
  /**
   * Without `stage1`, DICE-hard and DICE-soft train their own Stage 1 with this configuration
   * (and the context's seed) and free it once the decoder is trained.
   */
  stage1Config?: Partial<Stage1Config>;
  /** Progress label of the training lines (null: silent). Default: the variant's label and seed. */
  label?: string | null;
}

const disposeOf = (m: { dispose(): void }) => () => m.dispose();
const fitLabel = (ctx: RunContext, base: string | null | undefined, fallback: string) => (base === null || ctx.label === null ? null : (ctx.label ?? fallback));

/** A trained decoder variant: the graph-safe decoder, or the joint GRU (high-capacity). */
type DecoderRun = ForecastingRun<GraphSafeDecoder | JointGruDecoder>;

/** DICE Stage 1 as a run, with the Stage 1 result the DICE decoders decode from. */
type Stage1VariantRun = ForecastingRun<Stage1Run["model"]> & { stage1: Stage1Run; evidence: GraphEvidence };

/** The graph each decoder is supplied with, per unit (null: the unconstrained joint GRU). */
const SUPPLIED_GRAPHS: Readonly<Record<DecoderName, (tp: TimePanel, ctx: RunContext) => Graph[] | null>> = {
  "no-graph": (tp) => tp.panel.unitIds.map(() => emptyGraph(tp.panel.nodes)),
  "full-graph": (tp) => tp.panel.unitIds.map(() => fullGraph(tp.panel.nodes)),
  oracle: (tp) => {
    if (!tp.truth) throw new Error("the oracle decoder needs a panel with true graphs");
    return tp.truth;
  },
  "dice-hard": (tp, ctx) => ctx.graphs ?? (ctx.selection ?? selectSupportByValidation(needStage1(ctx, "dice-hard"), tp)).graphs,
  "dice-soft": (tp, ctx) => ctx.graphs ?? stage1Graphs(needStage1(ctx, "dice-soft").model, tp),
  "high-capacity": () => null,
};

function needStage1(ctx: RunContext, name: DecoderName): Stage1Run {
  if (!ctx.stage1) throw new Error(`${name} decodes from a DICE Stage 1 run: pass it in the run context`);
  return ctx.stage1;
}

/** The decoder a name stands for, trained on windows with its supplied graph. */
async function decoderRun(tp: TimePanel, name: DecoderName, config: Partial<DecoderTrainConfig>, ctx: RunContext): Promise<DecoderRun> {
  if ((name === "dice-hard" || name === "dice-soft") && !ctx.stage1 && !ctx.graphs) {
    const own = (await stage1Run(tp, ctx.stage1Config ?? {}, ctx)).stage1;
    try {
      return await decoderRun(tp, name, config, { ...ctx, stage1: own, selection: undefined });
    } finally {
      own.model.dispose();
    }
  }
  const graphs = SUPPLIED_GRAPHS[name](tp, ctx);
  if (graphs && graphs.length !== tp.panel.units) throw new Error(`${name}: ${graphs.length} graphs for ${tp.panel.units} units`);
  const cfg = decoderTrainConfig(config);
  const { panel } = tp;
  const base = { nodes: panel.nodes, target: targetIndex(panel), contextDim: panel.context?.names.length ?? 0, seed: ctx.seed };
  const model = graphs ? new GraphSafeDecoder({ ...base, ...cfg.graphSafe }) : new JointGruDecoder({ ...base, ...cfg.jointGru });
  const label = fitLabel(ctx, cfg.fit.label, name);
  const extras = graphs ? graphExtras(graphs, panel.nodes) : undefined;
  const extrasKey = graphs ? graphsFingerprint(graphs) : undefined;
  const fit = await trainOnWindows(tp, model, { name, extras, extrasKey, config: { ...cfg, fit: { ...cfg.fit, label } }, seed: ctx.seed });
  const copy = graphs ? graphs.map((g) => g.map((r) => [...r])) : null;
  return { name, label: VARIANT_LABELS[name], model, forecaster: model.forecaster(), graphs: copy, fit, evidence: null, dispose: disposeOf(model) };
}

/** DICE Stage 1 with its seed; evidence: its edge probabilities per unit. */
async function stage1Run(tp: TimePanel, config: Partial<Stage1Config>, ctx: RunContext): Promise<ForecastingRun<Stage1Run["model"]> & { stage1: Stage1Run }> {
  const fit = { ...STAGE1_DEFAULTS.fit, ...config.fit };
  const label = fitLabel(ctx, fit.label, `DICE Stage 1 (seed ${ctx.seed})`);
  const s1 = await trainStage1(tp, { ...config, model: { ...config.model, seed: ctx.seed }, fit: { ...fit, seed: ctx.seed, label } });
  const evidence = { units: tp.panel.unitIds.map((_, u) => u), probs: s1.probs, scores: s1.scores };
  return {
    name: "dice-stage1",
    label: VARIANT_LABELS["dice-stage1"],
    model: s1.model,
    forecaster: s1.model.forecaster(),
    graphs: s1.probs,
    fit: s1.fit,
    evidence,
    dispose: disposeOf(s1.model),
    stage1: s1,
  };
}

/** The runner of each kind of variant. */
const RUNNERS: { [K in VariantSpec["kind"]]: (tp: TimePanel, spec: Extract<VariantSpec, { kind: K }>, ctx: RunContext) => Promise<Run> } = {
  decoder: (tp, spec, ctx) => decoderRun(tp, spec.decoder, spec.config ?? {}, ctx),
  "dice-stage1": (tp, spec, ctx) => stage1Run(tp, spec.config ?? {}, ctx),
  causalmmm: (tp, spec, ctx) => {
    const c = spec.config ?? {};
    const label = fitLabel(ctx, c.fit?.label, `CausalMMM (seed ${ctx.seed})`);
    return trainCausalMMMOnTrainingWindow(tp, { ...c, model: { ...c.model, seed: ctx.seed }, fit: { ...c.fit, seed: ctx.seed, label } });
  },
  granger: async (tp, spec) => {
    const units = tp.panel.unitIds.map((_, u) => u);
    const scope = spec.scope;
    const steps = { from: tp.split.train.from, to: tp.split.train.to };
    const g = fitGranger(tp.panel, { ...spec.config, scope, steps, ...(scope === "unit" ? { units } : {}) });
    const probs = scope === "unit" ? g.unitFits!.map((f) => f.scores) : units.map(() => g.scores);
    const name = scope === "unit" ? "granger-unit" : "granger-pooled";
    const evidence = { units, probs, scores: tp.truth ? scoreGraphs(probs, tp.truth).mean : null };
    return { name, label: VARIANT_LABELS[name], model: g, forecaster: null, graphs: null, fit: null, evidence, dispose: () => {} };
  },
  pcmci: async (tp, spec) => {
    // pooled over units on the training window; the same edge scores for every unit
    const units = tp.panel.unitIds.map((_, u) => u);
    const fit = fitPcmci(tp.panel, { ...spec.config, steps: { from: tp.split.train.from, to: tp.split.train.to } });
    const probs = units.map(() => fit.scores.map((row) => [...row]));
    const evidence = { units, probs, scores: tp.truth ? scoreGraphs(probs, tp.truth).mean : null };
    return { name: "pcmci", label: VARIANT_LABELS.pcmci, model: fit, forecaster: null, graphs: null, fit: null, evidence, dispose: () => {} };
  },
  deepcausalmmm: (tp, spec, ctx) => {
    const c = spec.config ?? {};
    return trainDeepCausal(tp, spec.model ?? {}, ctx.label === null ? { ...c, fit: { ...c.fit, label: null } } : c, ctx.seed);
  },
};

/**
 * Trains the DeepCausalMMM-style model on a time panel's training windows (regions = units);
 * `model.channels` sets the DAG order (default: the panel's channel order), and zero spend is
 * placed on the model's scale per channel in that order.
 */
export async function trainDeepCausal(
  tp: TimePanel,
  model: Partial<DeepCausalMMMConfig> = {},
  train: Partial<DecoderTrainConfig> = {},
  seed = 0,
): Promise<ForecastingRun<DeepCausalMMM>> {
  if (!tp.scaler) throw new Error("trainDeepCausal: the time panel carries no scaler (build it with prepareTimePanel)");
  const base = deepCausalConfigFor(tp.panel);
  const channels = model.channels ?? base.channels;
  const zeroSpend = channels.map((ch) => scaleValue(tp.scaler!, ch, 0));
  const m = new DeepCausalMMM({ ...base, zeroSpend, ...model, channels, seed });
  const fit = await trainOnWindows(tp, m, { name: VARIANT_LABELS.deepcausalmmm, extras: regionExtras(), config: decoderTrainConfig(train), seed });
  const label = VARIANT_LABELS.deepcausalmmm;
  return { name: "deepcausalmmm", label, model: m, forecaster: m.forecaster(), graphs: null, fit, evidence: null, dispose: disposeOf(m) };
}

/** Trains the variant `spec` on `tp` with the context's seed. */
export function createRun(tp: TimePanel, spec: VariantSpec, ctx: RunContext): Promise<Run> {
  return (RUNNERS[spec.kind] as (tp: TimePanel, spec: VariantSpec, ctx: RunContext) => Promise<Run>)(tp, spec, ctx);
}

/** A decoder variant, trained: the forecasting run of `createRun` for `{ kind: "decoder" }`. */
export async function createDecoder(tp: TimePanel, decoder: DecoderName, config: Partial<DecoderTrainConfig>, ctx: RunContext): Promise<DecoderRun> {
  return decoderRun(tp, decoder, config, ctx);
}

/** DICE Stage 1 as a run, with the Stage 1 result the DICE decoders decode from. */
export function createStage1(tp: TimePanel, config: Partial<Stage1Config>, ctx: RunContext): Promise<Stage1VariantRun> {
  return stage1Run(tp, config, ctx) as Promise<Stage1VariantRun>;
}
