/**
 * Diagnosing a user's own panel ("bring your own data"): DICE Stage 1 and its selected
 * support, the pooled Granger and PCMCI baselines, the graph reported among them by held-out
 * forecast evidence (choice.ts), DICE-hard / DICE-soft and the reference decoders, their MSE@M
 * and influence (CIG, AR-CIG), scored against a true graph when one is given. `npm run diagnose`
 * (scripts/diagnose.ts) is the command-line face of {@link diagnosePanel} and {@link writeDiagnosis}.
 *
 * Without a true graph nothing here says which graph is right: the outputs say which edges the
 * restricted decoder needed (Stage 1), whether the forecast needs any cross-node path at all
 * (no-graph against the others), and where each decoder's sensitivity goes (AR-CIG), which is
 * what can be checked against domain knowledge.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { csvField } from "../data/csv";
import type { Panel, ScalerConfig, TimeSplitConfig } from "../data/panel";
import { scoreGraphs, spearman } from "../diagnostics/ranking";
import { type Graph, emptyGraph, fullGraph, meanGraph } from "../graph";
import { type Figure, heatmap, heatmapGrid } from "../plot/figure";
import { exportFigure } from "../plot/render";
import { encodeJson } from "../runner/json";
import { JobError, type RunOptions, registerJob, runJobs } from "../runner";
import { LIBRARY_VERSION } from "./jobs";
import { type GraphCandidate, type GraphChoice, type GraphChoiceConfig, type GraphSource, type ReportedSource, chooseGraph } from "./choice";
import { type Stage1Config, type Stage1Run, selectSupportByValidation, stage1Graphs } from "./dice";
import {
  type DecoderEvaluation,
  type DecoderName,
  type DecoderTrainConfig,
  type EvaluationConfig,
  evaluateDecoder,
  evaluationUnits,
  prepareTimePanel,
  scaleToMaxOffDiagonal,
  type TimePanel,
  VARIANT_LABELS,
} from "./protocol";
import { type RunContext, createDecoder, createStage1 } from "./variants";

export type DiagnoseDecoder = Exclude<DecoderName, "oracle">;

export interface DiagnoseConfig {
  split: Partial<TimeSplitConfig>;
  scaler: Partial<Omit<ScalerConfig, "steps" | "units">>;
  stage1: Partial<Stage1Config>;
  decoder: Partial<DecoderTrainConfig>;
  evaluation: Partial<EvaluationConfig>;
  decoders: DiagnoseDecoder[];
  /**
   * Units the decoders are evaluated on (MSE@M, CIG, AR-CIG; their cost grows with units x N^2):
   * at most this many, evenly spaced over the panel; null: all. Stage 1 and training use every unit.
   */
  evalUnits: number | null;
  /** Constrain Stage 1 and the baselines by the node roles (no edge into a channel, none out of the target; notebook 05's selection). */
  roles: boolean;
  /**
   * Per-unit graphs (`graph-units.csv`, Stage 1's): "auto" writes them only when the diagnosis
   * reports per-unit graphs (per-unit evidence supports them), "always" whatever the evidence.
   */
  unitGraphs: "auto" | "always";
  /** How the reported graph is chosen among Stage 1 and the baselines (choice.ts). */
  choice: Partial<Omit<GraphChoiceConfig, "roles" | "seed">>;
  seed: number;
  /**
   * Child processes the decoders are trained in (lib/runner), beside Stage 1 in this process:
   * those that need no Stage 1 start at once in up to `workers - 1` children, DICE-hard and
   * DICE-soft once Stage 1 is done in up to `workers` (so the two batches may overlap for a
   * while). 0: every decoder here, one after another. The results are the same either way (each
   * decoder has its own seed); only the time differs.
   */
  workers: number;
  /** Progress lines (stderr in the CLI); null: silent. */
  log: ((line: string) => void) | null;
}

export const DIAGNOSE_DEFAULTS: DiagnoseConfig = {
  split: {},
  scaler: { log1p: "none", scope: "node" },
  stage1: {},
  decoder: {},
  evaluation: {},
  decoders: ["no-graph", "full-graph", "high-capacity", "dice-hard", "dice-soft"],
  evalUnits: 40,
  roles: false,
  unitGraphs: "auto",
  choice: {},
  seed: 1,
  workers: 0,
  log: null,
};

/** One decoder's measures on the test period. */
export interface DecoderDiagnosis {
  name: DiagnoseDecoder;
  mse: { horizon: number; target: number; allNodes: number }[];
  /** Direct AR-CIG, mean over units, `[j][i]` (j -> i). */
  arCigDirect: number[][];
  /** nAUPRC against the true graph (null without one). */
  nauprc: { cig: number; direct: number; total: number } | null;
  trainSeconds: number;
}

export interface DiagnosisResult {
  /** The panel's shape; `unitIds` are the values of its unit column, in unit order. */
  panel: { units: number; unitIds: string[]; steps: number; nodes: string[]; roles: string[]; split: { train: number; validation: number; test: number } };
  stage1: {
    /** P(j -> i) per unit and its mean over units. */
    probs: Graph[];
    meanProbs: Graph;
    /** The selected 0/1 support per unit and the share of units selecting each edge. */
    support: Graph[];
    supportShare: Graph;
    threshold: number;
    /** Against the true graph (null without one). */
    scores: { auroc: number; nauprc: number } | null;
  };
  /**
   * The reported graph: Stage 1's or a baseline's, whichever held-out forecasts support best
   * (choice.ts), every candidate with its evidence, and the warnings of the choice.
   */
  graph: ReportedGraph;
  decoders: DecoderDiagnosis[];
  /** Units the decoders were evaluated on, as indices into `panel.unitIds`. */
  evalUnits: number[];
  hasTruth: boolean;
  seconds: number;
  /** The configuration (without `log` and `workers`, which do not change the results). */
  config: Omit<DiagnoseConfig, "log" | "workers">;
}

/** The graph a diagnosis reports, and its candidates. */
export interface ReportedGraph {
  chosen: ReportedSource;
  /** The candidates it stands for (one, or those of the consensus). */
  members: GraphSource[];
  /** The candidates held-out forecasts could not tell apart from the best (the best included); more than one: the tie rule decided. */
  tied: GraphSource[];
  label: string;
  /** Edge scores `[j][i]` of the chosen method (a consensus: mean normalised rank), pooled over units. */
  scores: Graph;
  /** Whether per-unit graphs are reported (`graph-units.csv`): Stage 1 chosen and its units' own graphs better on validation. */
  perUnit: boolean;
  perUnitEvidence: GraphChoice["perUnitEvidence"];
  /** Every candidate with its evidence, and its AUROC against the true graph when one is given (never used by the choice). */
  candidates: (GraphCandidate & { auroc: number | null })[];
  null: { mean: number; sd: number };
  warnings: string[];
  /** The reported graph against the true graph (null without one). */
  truthScores: { auroc: number; nauprc: number } | null;
}

/** Fits DICE Stage 1/2 and the reference decoders on a panel and measures them. */
export async function diagnosePanel(raw: Panel, config: Partial<DiagnoseConfig> = {}): Promise<DiagnosisResult> {
  const c: DiagnoseConfig = { ...DIAGNOSE_DEFAULTS, ...config, scaler: { ...DIAGNOSE_DEFAULTS.scaler, ...config.scaler } };
  const t0 = Date.now();
  const log = c.log ?? (() => {});
  const tp = prepareTimePanel(raw, c.split, c.scaler);
  const N = tp.panel.nodes;
  const evalUnits = evaluationUnits(raw.units, c.evalUnits);
  log(
    `diagnose: ${raw.units} units x ${raw.steps} steps x ${N} nodes; train [${tp.split.train.from}, ${tp.split.train.to}), validation ` +
      `[${tp.split.validation.from}, ${tp.split.validation.to}), test [${tp.split.test.from}, ${tp.split.test.to})${tp.truth ? "; true graph given" : ""}`,
  );
  const settings: DecoderSettings = { decoder: c.decoder, evaluation: c.evaluation, evalUnits, seed: c.seed, progress: c.log !== null };
  // decoders in child processes (c.workers > 0) write their results to a cache of their own, removed at the end
  const cacheDir = c.workers > 0 ? mkdtempSync(join(tmpdir(), "graph-mmm-diagnose-")) : null;
  const inChildren = (names: DiagnoseDecoder[], graphs: Partial<Record<DiagnoseDecoder, Graph[]>>, workers: number) =>
    runJobs(
      names.map((name) => diagnoseDecoderJob({ panel: raw, split: c.split, scaler: c.scaler, name, graphs: graphs[name] ?? null, settings })),
      { workers, cacheDir: cacheDir!, progress: false, label: "diagnose", ...(c.log ? { log: c.log } : { log: () => {} }) } satisfies RunOptions,
    );
  const needsStage1 = (name: DiagnoseDecoder) => name === "dice-hard" || name === "dice-soft";
  const independent = c.decoders.filter((d) => !needsStage1(d));
  // started before Stage 1 and awaited after it; a failure is handled there
  const early = cacheDir && independent.length ? inChildren(independent, {}, Math.max(1, c.workers - 1)) : null;
  early?.catch(() => {});
  let s1: Stage1Run | null = null;
  try {
    const stage1Model = { ...c.stage1.model, ...(c.roles ? { roles: tp.panel.roles } : {}) };
    const stage1 = (await createStage1(tp, { ...c.stage1, model: stage1Model }, { seed: c.seed, label: c.log ? "DICE Stage 1" : null })).stage1;
    s1 = stage1;
    const selection = selectSupportByValidation(stage1, tp);
    log(
      `diagnose: Stage 1 done in ${stage1.fit.seconds.toFixed(1)} s; support threshold ${selection.evidence.chosen.threshold} ` +
        `(${selection.evidence.chosen.edges.toFixed(1)} edges per unit)` +
        (stage1.scores ? `; AUROC ${stage1.scores.auroc.toFixed(3)}, nAUPRC ${stage1.scores.nauprc.toFixed(3)}` : ""),
    );
    const choice = chooseGraph(tp, stage1, { ...c.choice, roles: c.roles ? [...tp.panel.roles] : null, seed: c.seed });
    const graph = reportedGraph(choice, tp.truth);
    for (const k of graph.candidates)
      log(
        `diagnose: ${k.label}: held-out evidence z ${k.z.toFixed(2)} (areas ${k.area.validation.toFixed(4)}, ${k.area.crossValidation.toFixed(4)})${k.auroc !== null ? `, AUROC ${k.auroc.toFixed(3)}` : ""}${graph.members.includes(k.source) ? " <- reported" : ""}`,
      );
    if (graph.tied.length > 1)
      log(`diagnose: held-out forecasts cannot tell ${graph.tied.map((s) => VARIANT_LABELS[s]).join(", ")} apart; reported: ${graph.label}`);
    for (const w of graph.warnings) log(`diagnose: warning: ${w}`);
    const decodeAfterStage1 = async (): Promise<DecoderDiagnosis[]> => {
      const names = cacheDir ? c.decoders.filter(needsStage1) : c.decoders;
      if (!cacheDir) {
        const out: DecoderDiagnosis[] = [];
        for (const name of names) out.push(await diagnoseDecoder(tp, name, settings, { stage1: stage1, selection }));
        return out;
      }
      const graphs = { "dice-hard": selection.graphs, "dice-soft": names.includes("dice-soft") ? stage1Graphs(stage1.model, tp) : [] };
      return names.length ? inChildren(names, graphs, c.workers) : [];
    };
    const byName = new Map((await Promise.all([early ?? [], decodeAfterStage1()])).flat().map((d) => [d.name, d]));
    const decoders = c.decoders.map((name) => byName.get(name)!);
    for (const d of decoders) {
      const m7 = d.mse.find((m) => m.horizon === 7)?.target ?? NaN;
      log(`diagnose: ${d.name}: MSE@7 target ${m7.toFixed(4)}${d.nauprc ? `, direct AR-CIG nAUPRC ${d.nauprc.direct.toFixed(3)}` : ""}`);
    }
    const result: DiagnosisResult = {
      panel: {
        units: raw.units,
        unitIds: [...raw.unitIds],
        steps: raw.steps,
        nodes: [...raw.nodeNames],
        roles: [...raw.roles],
        split: { train: tp.split.train.length, validation: tp.split.validation.length, test: tp.split.test.length },
      },
      stage1: {
        probs: stage1.probs,
        meanProbs: meanGraph(stage1.probs),
        support: selection.graphs,
        supportShare: meanGraph(selection.graphs),
        threshold: selection.evidence.chosen.threshold,
        scores: stage1.scores ? { auroc: stage1.scores.auroc, nauprc: stage1.scores.nauprc } : null,
      },
      graph,
      decoders,
      evalUnits: evalUnits ?? Array.from({ length: raw.units }, (_, u) => u),
      hasTruth: tp.truth !== null,
      seconds: (Date.now() - t0) / 1000,
      config: {
        split: c.split,
        scaler: c.scaler,
        stage1: c.stage1,
        decoder: c.decoder,
        evaluation: c.evaluation,
        decoders: c.decoders,
        evalUnits: c.evalUnits,
        roles: c.roles,
        unitGraphs: c.unitGraphs,
        choice: c.choice,
        seed: c.seed,
      },
    };
    return result;
  } catch (err) {
    // a decoder that failed in a child: its own error, not the runner's summary of the batch
    throw err instanceof JobError && err.failures.length > 0 ? new Error(`decoder ${describeFailure(err)}`) : err;
  } finally {
    // no child may still write into the cache folder when it is removed
    if (early)
      await early.then(
        () => {},
        () => {},
      );
    s1?.model.dispose();
    if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
  }
}

/** The first failed decoder job of a batch: its decoder's name and the first line of its error. */
function describeFailure(err: JobError): string {
  const f = err.failures[0];
  const name = (f.job.config as { name?: string }).name ?? f.job.kind;
  const lines = f.error.split("\n").filter((l) => l.trim() !== "");
  const message = lines.find((l) => /^\s*[A-Za-z]*Error\b/.test(l)) ?? lines[0] ?? "failed";
  return `${name} failed in a child process: ${message.trim()}`;
}

/** How each decoder of a diagnosis is trained and evaluated. */
interface DecoderSettings {
  decoder: Partial<DecoderTrainConfig>;
  evaluation: Partial<EvaluationConfig>;
  /** Indices of the evaluated units (null: all). */
  evalUnits: number[] | null;
  seed: number;
  /** Training progress lines. */
  progress: boolean;
}

/** Trains one decoder of a diagnosis and measures it on the test period. */
async function diagnoseDecoder(tp: TimePanel, name: DiagnoseDecoder, s: DecoderSettings, ctx: Omit<RunContext, "seed" | "label">): Promise<DecoderDiagnosis> {
  const run = await createDecoder(tp, name, s.decoder, { ...ctx, seed: s.seed, label: s.progress ? name : null });
  let ev: DecoderEvaluation;
  try {
    ev = evaluateDecoder(run, tp, { ...s.evaluation, ...(s.evalUnits ? { units: s.evalUnits } : {}) });
  } finally {
    run.dispose();
  }
  return {
    name,
    mse: ev.mse.horizons.map((h) => ({ horizon: h.horizon, target: h.target, allNodes: h.allNodes })),
    arCigDirect: ev.influence.direct!.values,
    nauprc: tp.truth ? { cig: ev.nauprc.cig, direct: ev.nauprc.direct, total: ev.nauprc.total } : null,
    trainSeconds: run.fit.seconds,
  };
}

/**
 * One decoder of a diagnosis as a runner job, for a child process: the raw panel travels in
 * the configuration (the child prepares it as the parent did), with the graphs a DICE decoder
 * decodes with (computed from the parent's Stage 1).
 */
const diagnoseDecoderJob = registerJob<
  {
    panel: Panel;
    split: Partial<TimeSplitConfig>;
    scaler: Partial<Omit<ScalerConfig, "steps" | "units">>;
    name: DiagnoseDecoder;
    graphs: Graph[] | null;
    settings: DecoderSettings;
  },
  DecoderDiagnosis
>({
  kind: "diagnose-decoder",
  version: LIBRARY_VERSION,
  module: __filename,
  run: (j) => diagnoseDecoder(prepareTimePanel(panelFromJson(j.panel), j.split, j.scaler), j.name, j.settings, j.graphs ? { graphs: j.graphs } : {}),
});

/** A panel read back from a job's JSON configuration: its value arrays are Float32Arrays again (JSON keeps them as plain arrays). */
function panelFromJson(p: Panel): Panel {
  return {
    ...p,
    values: Float32Array.from(p.values),
    ...(p.context ? { context: { ...p.context, values: Float32Array.from(p.context.values) } } : {}),
  };
}

/** The reported graph of a choice, each candidate scored against the truth when there is one (never used by the choice). */
function reportedGraph(choice: GraphChoice, truth: Graph[] | null): ReportedGraph {
  const score = (graphs: Graph | Graph[]) => (truth ? scoreGraphs(graphs, truth, truth.length).mean : null);
  const reported = score(choice.unitGraphs ?? choice.graph);
  return {
    chosen: choice.chosen,
    members: choice.members,
    tied: choice.tied,
    label: choice.label,
    scores: choice.graph,
    perUnit: choice.unitGraphs !== null,
    perUnitEvidence: choice.perUnitEvidence,
    candidates: choice.candidates.map((k) => ({
      source: k.source,
      label: k.label,
      scores: k.scores,
      area: k.area,
      z: k.z,
      distinguishable: k.distinguishable,
      auroc: score(k.scores)?.auroc ?? null,
      seconds: k.seconds,
    })),
    null: choice.null,
    warnings: choice.warnings,
    truthScores: reported ? { auroc: reported.auroc, nauprc: reported.nauprc } : null,
  };
}

/**
 * The figures of a diagnosis: the reported graph, every candidate graph (each scaled to its
 * largest value), and each decoder's direct AR-CIG scaled to its largest off-diagonal value.
 * `prefix` goes before each figure's name (the CLI writes `learned-graph`, `candidates` and `influence`).
 */
export function diagnosisFigures(result: DiagnosisResult, prefix = "", title = ""): Figure[] {
  const names = result.panel.nodes;
  const t = title ? `${title}: ` : "";
  const g = result.graph;
  const scaled = (z: Graph) => {
    const max = Math.max(...z.flatMap((row, j) => row.filter((_, i) => i !== j)));
    return z.map((row, j) => row.map((v, i) => (i === j || !(max > 0) ? 0 : v / max)));
  };
  return [
    heatmap({
      name: `${prefix}learned-graph`,
      caption:
        `${t}The reported graph (${g.label}, chosen by held-out forecast evidence)` +
        (g.chosen === "dice-stage1"
          ? ": P(j -> i), mean over units"
          : g.chosen === "consensus"
            ? ": mean normalised rank"
            : ": edge scores scaled to the largest") +
        "; rows senders, columns receivers.",
      z: g.chosen === "dice-stage1" || g.chosen === "consensus" ? g.scores : scaled(g.scores),
      rowLabels: names,
      colLabels: names,
      zmin: 0,
      zmax: 1,
    }),
    heatmapGrid({
      name: `${prefix}candidates`,
      caption: `${t}Every candidate graph, each scaled to its largest score, with its held-out evidence z (distance from random rankings in null SDs); rows senders, columns receivers.`,
      panels: g.candidates.map((k) => ({ title: `${k.label} (z ${k.z.toFixed(1)})`, z: scaled(k.scores) })),
      labels: names,
      columns: g.candidates.length,
      zmin: 0,
      zmax: 1,
    }),
    heatmapGrid({
      name: `${prefix}influence`,
      caption: `${t}Direct AR-CIG of each decoder, mean over the evaluated units, scaled to its largest off-diagonal value; rows senders, columns receivers.`,
      panels: result.decoders.map((d) => ({ title: d.name, z: scaleToMaxOffDiagonal(d.arCigDirect) })),
      labels: names,
      columns: Math.min(3, result.decoders.length),
      zmin: 0,
      zmax: 1,
    }),
  ];
}

/** One CSV record of fields, without its line break. */
export { csvField };

const csvRecord = (fields: readonly (string | number)[]) => fields.map(csvField).join(",");

/**
 * What `diagnostics.json` holds: the result without the per-unit graphs (they are in
 * `graph-units.csv`), with the evaluated units named by their ids rather than their indices.
 */
export type DiagnosisFile = Omit<DiagnosisResult, "stage1" | "evalUnits"> & {
  stage1: Omit<DiagnosisResult["stage1"], "probs" | "support">;
  /** Ids of the units the decoders were evaluated on (values of the unit column). */
  evalUnits: string[];
};

/** The content of `diagnostics.json` for a result. */
export function diagnosisFile(result: DiagnosisResult): DiagnosisFile {
  const { probs: _p, support: _s, ...stage1 } = result.stage1;
  const ids = result.panel.unitIds;
  return { ...result, stage1, evalUnits: result.evalUnits.map((u) => ids[u]) };
}

/**
 * Writes a diagnosis to `out` all at once: everything goes to a temporary folder beside it,
 * which is renamed into place at the end, so that `out` holds complete results or nothing.
 * An existing `out` is replaced only with `force`.
 * Files: `graph.csv` (the reported graph: source, target, score, method; a consensus names its
 * members joined by "+"), `graphs/<method>.csv`
 * (every candidate; Stage 1's with its mean P and the share of units selecting each edge),
 * `graph-units.csv` (Stage 1's per unit, named by its id) only when the diagnosis reports per-unit
 * graphs or `config.unitGraphs` is "always",
 * `diagnostics.json` ({@link DiagnosisFile}), `figures/*.png|svg`. CSV fields are quoted where
 * needed ({@link csvField}).
 */
export async function writeDiagnosis(result: DiagnosisResult, out: string, options: { force?: boolean } = {}): Promise<string[]> {
  const dir = resolve(out);
  if (existsSync(dir) && !options.force) throw new Error(`${dir} exists: choose another --out or pass --force to replace it`);
  mkdirSync(dirname(dir), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, "figures"), { recursive: true });
  mkdirSync(join(tmp, "graphs"), { recursive: true });
  const written: string[] = [];
  const write = (file: string, lines: string[]) => {
    writeFileSync(join(tmp, file), lines.join("\n") + "\n");
    written.push(file);
  };
  try {
    const names = result.panel.nodes;
    const ids = result.panel.unitIds;
    if (ids.length !== result.stage1.probs.length) throw new Error(`writeDiagnosis: ${ids.length} unit ids for ${result.stage1.probs.length} units`);
    const pairs = names.flatMap((_, j) => names.flatMap((_, i) => (i === j ? [] : [{ j, i }])));
    const g = result.graph;
    write("graph.csv", [
      csvRecord(["source", "target", "score", "method"]),
      ...pairs.map(({ j, i }) => csvRecord([names[j], names[i], g.scores[j][i].toFixed(6), g.members.join("+")])),
    ]);
    for (const k of g.candidates) {
      const rows =
        k.source === "dice-stage1"
          ? [
              csvRecord(["source", "target", "probability", "selected_share"]),
              ...pairs.map(({ j, i }) =>
                csvRecord([names[j], names[i], result.stage1.meanProbs[j][i].toFixed(6), result.stage1.supportShare[j][i].toFixed(6)]),
              ),
            ]
          : [csvRecord(["source", "target", "score"]), ...pairs.map(({ j, i }) => csvRecord([names[j], names[i], k.scores[j][i].toFixed(6)]))];
      write(`graphs/${k.source}.csv`, rows);
    }
    if (g.perUnit || result.config.unitGraphs === "always") {
      const unitRows = [csvRecord(["unit", "source", "target", "probability", "selected"])];
      for (const { j, i } of pairs)
        result.stage1.probs.forEach((pg, u) => unitRows.push(csvRecord([ids[u], names[j], names[i], pg[j][i].toFixed(6), result.stage1.support[u][j][i]])));
      write("graph-units.csv", unitRows);
    }
    // NaN (e.g. a score without a truth) is kept as {"$float": "NaN"}, see lib/runner/json.ts
    write("diagnostics.json", [JSON.stringify(JSON.parse(encodeJson(diagnosisFile(result), "diagnosis")), null, 2)]);
    const figs = join(tmp, "figures");
    for (const fig of diagnosisFigures(result)) {
      await exportFigure(fig, figs);
      written.push(`figures/${fig.name}.png`);
    }
    // the old results are moved aside first and removed only once the new ones are in place
    const old = `${dir}.old-${process.pid}`;
    const replacing = existsSync(dir);
    if (replacing) renameSync(dir, old);
    try {
      renameSync(tmp, dir);
    } catch (err) {
      if (replacing) renameSync(old, dir);
      throw err;
    }
    if (replacing) rmSync(old, { recursive: true, force: true });
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  return written.map((f) => join(dir, f));
}

/** What a diagnosis says without a true graph, in numbers (see {@link diagnosisConclusion}). */
export interface DiagnosisSummary {
  /** Target MSE@7 of each decoder. */
  mse7: Partial<Record<DiagnoseDecoder, number>>;
  /** (MSE@7 no-graph - MSE@7 DICE-hard) / MSE@7 no-graph: how much the selected paths help the forecast. */
  graphGain: number;
  /** Share of Stage 1's edge probability mass on edges the node roles rule out (into a channel, out of the target). */
  implausibleMass: number;
  /** Share of the ordered pairs that are such edges (the mass a graph blind to roles would put there). */
  implausiblePairs: number;
  /** Spearman correlation, over the off-diagonal pairs, between a decoder's direct AR-CIG and Stage 1's mean P. */
  agreement: Partial<Record<DiagnoseDecoder, number>>;
  /** The strongest Stage 1 edges: sender, receiver, mean P, share of units selecting it. */
  topEdges: { source: string; target: string; probability: number; selectedShare: number }[];
}

/** Numbers that can be read from a diagnosis without a true graph. */
export function summariseDiagnosis(result: DiagnosisResult, topK = 5): DiagnosisSummary {
  const names = result.panel.nodes;
  const roles = result.panel.roles;
  const N = names.length;
  const mse7: DiagnosisSummary["mse7"] = {};
  for (const d of result.decoders) mse7[d.name] = d.mse.find((m) => m.horizon === 7)?.target ?? NaN;
  const P = result.stage1.meanProbs;
  let mass = 0;
  let implausible = 0;
  let implausibleCount = 0;
  const pairs: { j: number; i: number }[] = [];
  for (let j = 0; j < N; j++)
    for (let i = 0; i < N; i++) {
      if (i === j) continue;
      pairs.push({ j, i });
      mass += P[j][i];
      if (roles[i] === "channel" || roles[j] === "target") {
        implausible += P[j][i];
        implausibleCount++;
      }
    }
  const agreement: DiagnosisSummary["agreement"] = {};
  for (const d of result.decoders)
    agreement[d.name] = spearman(
      pairs.map(({ j, i }) => d.arCigDirect[j][i]),
      pairs.map(({ j, i }) => P[j][i]),
    );
  const topEdges = [...pairs]
    .sort((a, b) => P[b.j][b.i] - P[a.j][a.i])
    .slice(0, topK)
    .map(({ j, i }) => ({ source: names[j], target: names[i], probability: P[j][i], selectedShare: result.stage1.supportShare[j][i] }));
  const ng = mse7["no-graph"] ?? NaN;
  return {
    mse7,
    graphGain: (ng - (mse7["dice-hard"] ?? NaN)) / ng,
    implausibleMass: mass > 0 ? implausible / mass : NaN,
    implausiblePairs: implausibleCount / pairs.length,
    agreement,
    topEdges,
  };
}

/** What can and cannot be concluded from a diagnosis without a true graph (Markdown, from its numbers). */
export function diagnosisConclusion(name: string, result: DiagnosisResult): string {
  const s = summariseDiagnosis(result);
  const f = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x.toFixed(3) : "n/a");
  const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : "n/a");
  const best = Object.entries(s.mse7).sort((a, b) => (a[1] ?? Infinity) - (b[1] ?? Infinity))[0];
  const needs =
    s.graphGain > 0.02
      ? "the selected paths improve the forecast"
      : s.graphGain < -0.02
        ? "the selected paths make the forecast worse"
        : "the selected paths leave the forecast about where the no-graph decoder has it";
  const g = result.graph;
  const z = g.candidates.map((k) => `${k.label} z ${f(k.z)}`).join(", ");
  return [
    `**${name}.** Reported graph: ${g.label}${g.perUnit ? " (per unit)" : ""}, the candidate held-out forecasts support best (${z}; z: distance from ` +
      `random rankings of the same pairs in null SDs)${g.warnings.length ? `. ${g.warnings.join(" ")}` : "."}`,
    `Best target MSE@7: ${best?.[0]} (${f(best?.[1])}); no-graph ${f(s.mse7["no-graph"])}, DICE-hard ${f(s.mse7["dice-hard"])}: ${needs} ` +
      `(relative gain ${pct(s.graphGain)}).`,
    `Stage 1 puts ${pct(s.implausibleMass)} of its edge mass on edges the roles rule out (into a channel or out of the target), ` +
      `which are ${pct(s.implausiblePairs)} of the pairs${result.config.roles ? " (Stage 1 was constrained by the roles)" : ""}; ` +
      `strongest edges: ${s.topEdges.map((e) => `${e.source} → ${e.target} (${f(e.probability)})`).join(", ")}.`,
    `Agreement of each decoder's direct AR-CIG with Stage 1's graph (Spearman over edges): ${Object.entries(s.agreement)
      .map(([d, r]) => `${d} ${f(r)}`)
      .join(", ")}.`,
  ].join("\n\n");
}
