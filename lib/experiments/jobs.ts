/**
 * The study's experiments as runner jobs (lib/runner): each seed of a benchmark is one job,
 * identified by its JSON configuration, cached on disk, and run in a child process, one per
 * core. A job rebuilds its data from a {@link PanelSpec} (generators are seeded and
 * deterministic), so that its configuration is small and fully identifies its result.
 */
import { type BypassProneInput, generateBypassProne } from "../data/bypass-prone";
import { loadCausalMMMSim } from "../data/causalmmm";
import { type FamilyInput, familyPanel } from "../data/family";
import type { Panel, ScalerConfig, TimeSplitConfig } from "../data/panel";
import {
  type RawlogInput,
  type SparseTargetInput,
  type SwapGridConfig,
  type VarDagInput,
  generateRawlog,
  generateSparseTarget,
  generateVarDag,
  swapGrid,
} from "../data/simulate";
import { type Job, type RunOptions, registerJob, runJobs } from "../runner";
import { type BypassConfig, type BypassSeedResult, bypassSeed } from "./bypass";
import { type ShippedConfig, type ShippedSeedResult, shippedCausalMMMSeed } from "./causalmmm";
import type { Stage1Config } from "./dice";
import { type DecoderTrainConfig, type TimePanel, VARIANT_LABELS, prepareTimePanel } from "./protocol";
import { type StressCellConfig, type StressCellResult, type StressMethod, stressCell } from "./stress";
import { type SwapSeedResult, type SwapStudyConfig, swapSeed } from "./swap";
import { type BudgetSeedResult, type BudgetStudyConfig, budgetSeed } from "./budget";
import { type RecoveryCellConfig, type RecoveryMethod, type RecoveryResult, type RecoveryRow, recoveryCore, recoveryExtra } from "./recovery";
import { LIBRARY_VERSION } from "./version";

/** The version of every job here (lib/experiments/version.ts). */
export { LIBRARY_VERSION };

/**
 * The data of a job: a generated panel (or the external CausalMMM data), standardised on its
 * training window by the pipeline's scaler (`scaler`, e.g. `log1p: "all"` for raw-log data).
 */
export interface PanelSpec {
  generator: "sparse-target" | "bypass-prone" | "var-dag" | "rawlog" | "causalmmm-sim" | "family";
  input?: SparseTargetInput | BypassProneInput | VarDagInput | RawlogInput | FamilySpec;
  split?: Partial<TimeSplitConfig>;
  scaler?: Partial<Omit<ScalerConfig, "steps" | "units">>;
}

const panels = new Map<string, TimePanel>();

function rawPanel(spec: PanelSpec): Panel {
  const input = spec.input ?? {};
  switch (spec.generator) {
    case "sparse-target":
      return generateSparseTarget(input as SparseTargetInput).panel;
    case "bypass-prone":
      return generateBypassProne(input as BypassProneInput).panel;
    case "var-dag":
      return generateVarDag(input).panel;
    case "rawlog":
      return generateRawlog(input as RawlogInput).panel;
    case "causalmmm-sim":
      return loadCausalMMMSim();
    case "family": {
      const f = input as FamilySpec;
      return familyPanel(f.member, f.seed, f.override ?? {}).panel;
    }
    default:
      throw new Error(`panel spec: unknown generator "${(spec as { generator: string }).generator}"`);
  }
}

/** A panel of the evaluation family (lib/data/family.ts): a member, its seed, and fields merged over the member's configuration. */
export interface FamilySpec {
  member: string;
  seed: number;
  override?: FamilyInput;
}

/** The time panel of a spec (built once per process). */
export function panelFromSpec(spec: PanelSpec): TimePanel {
  const key = JSON.stringify(spec);
  let tp = panels.get(key);
  if (!tp) {
    tp = prepareTimePanel(rawPanel(spec), spec.split ?? {}, spec.scaler ?? {});
    panels.set(key, tp);
  }
  return tp;
}

/** The parts of a study configuration that train with progress lines. */
type Trains = { stage1?: Partial<Stage1Config>; decoder?: Partial<DecoderTrainConfig> };

/** A job's configuration with the training progress lines off (a child's output is the runner's). */
function quiet<C extends Trains>(config: C): C {
  const stage1 = { ...config.stage1, fit: { ...config.stage1?.fit, label: null } };
  return { ...config, stage1, decoder: { ...config.decoder, fit: { ...config.decoder?.fit, label: null } } };
}

/** A job that runs one seed of a study on a panel. */
export interface SeedJob<C> {
  panel: PanelSpec;
  seed: number;
  config: Partial<C>;
}

/** Registers a per-seed study function as a job kind (its training progress lines off). */
function seedJob<C extends Trains, R>(kind: string, study: (tp: TimePanel, seed: number, config: Partial<C>) => Promise<R>) {
  return registerJob<SeedJob<C>, R>({ kind, version: LIBRARY_VERSION, module: __filename, run: (c) => study(panelFromSpec(c.panel), c.seed, quiet(c.config)) });
}

export type BypassSeedJob = SeedJob<BypassConfig>;
export type SwapSeedJob = SeedJob<SwapStudyConfig>;
export type BudgetSeedJob = SeedJob<BudgetStudyConfig>;

export const bypassSeedJob = seedJob<BypassConfig, BypassSeedResult>("bypass-seed", bypassSeed);
export const swapSeedJob = seedJob<SwapStudyConfig, SwapSeedResult>("swap-seed", swapSeed);
export const budgetSeedJob = seedJob<BudgetStudyConfig, BudgetSeedResult>("budget-seed", budgetSeed);

/**
 * A study over seeds on one or more panels (a notebook's benchmarks): one cached job per (panel,
 * seed), each seed on its own draw of the panel ({@link panelSpecForSeed}). All the jobs go to the
 * workers as one batch, so that no worker waits between panels (two benchmarks x 5 seeds on two
 * workers take 5 rounds of jobs, not 2 x 3). Results per panel, in seed order: `[panels][seeds]`.
 */
export type SeedStudy<C, R> = (panels: readonly PanelSpec[], seeds: readonly number[], config?: Partial<C>, options?: RunOptions) => Promise<R[][]>;

/**
 * The panel a seed of a study runs on: every seed draws its own panel as well as its own model
 * (STUDY.md, "Data"), so a generated panel's seed becomes `input.seed + seed`; the external
 * CausalMMM data have one draw and are returned as they are.
 */
export function panelSpecForSeed(spec: PanelSpec, seed: number): PanelSpec {
  if (spec.generator === "causalmmm-sim") return spec;
  const input = spec.input ?? {};
  const base = (input as { seed?: number }).seed ?? 0;
  return { ...spec, input: { ...input, seed: base + seed } };
}

/** A {@link SeedStudy} of a per-seed job kind. */
export function overPanels<C, R>(job: (c: SeedJob<C>) => Job<R>, label: string): SeedStudy<C, R> {
  return async (panels, seeds, config = {}, options = {}) => {
    const jobs = panels.flatMap((panel) => seeds.map((seed) => job({ panel: panelSpecForSeed(panel, seed), seed, config })));
    const results = await runJobs(jobs, { label, ...options });
    return panels.map((_, p) => results.slice(p * seeds.length, (p + 1) * seeds.length));
  };
}

/** The bypass benchmarks over seeds. */
export const runBypass: SeedStudy<BypassConfig, BypassSeedResult> = overPanels(bypassSeedJob, "bypass benchmark");
/** The graph-swap study over seeds. */
export const runSwap: SeedStudy<SwapStudyConfig, SwapSeedResult> = overPanels(swapSeedJob, "graph swap");
/** The budget study over seeds. */
export const runBudget: SeedStudy<BudgetStudyConfig, BudgetSeedResult> = overPanels(budgetSeedJob, "budget study");

/** One seed of CausalMMM on its shipped simulation (raw scale, the official unit split). */
export interface ShippedSeedJob {
  seed: number;
  config: Partial<ShippedConfig>;
}

export const shippedSeedJob = registerJob<ShippedSeedJob, ShippedSeedResult>({
  kind: "causalmmm-shipped",
  version: LIBRARY_VERSION,
  module: __filename,
  run: (c) => {
    const experiment = c.config.experiment ?? {};
    return shippedCausalMMMSeed(loadCausalMMMSim(), c.seed, { ...c.config, experiment: { ...experiment, fit: { ...experiment.fit, label: null } } });
  },
});

/** CausalMMM on its shipped simulation over seeds, one cached job per seed (one thread each), results in seed order. */
export function runShipped(seeds: readonly number[], config: Partial<ShippedConfig> = {}, options: RunOptions = {}): Promise<ShippedSeedResult[]> {
  return runJobs(
    seeds.map((seed) => shippedSeedJob({ seed, config })),
    { label: "CausalMMM, shipped data", ...options },
  );
}

export interface StressCellJob {
  panel: PanelSpec;
  method: StressMethod;
  seed: number;
  config: Partial<StressCellConfig>;
}

export const stressCellJob = registerJob<StressCellJob, StressCellResult>({
  kind: "stress-cell",
  version: LIBRARY_VERSION,
  module: __filename,
  run: (c) => stressCell(panelFromSpec(c.panel), c.method, c.seed, c.config),
});

/** A setting of the stress study: a name, which factor it varies, and its data. */
export interface StressSetting {
  name: string;
  /** "R", "d", "T" (swap grid), "base", "rawlog" or "external". */
  factor: string;
  panel: PanelSpec;
}

/**
 * The settings of the stress study: the R/d/T swap grid of VAR-DAG panels, a rawlog panel of the
 * base size (log1p then standardised by the pipeline: nothing by hand), and optionally the
 * external CausalMMM data.
 */
export function stressSettings(grid: Partial<SwapGridConfig>, rawlog: RawlogInput | null, external: boolean): StressSetting[] {
  const out: StressSetting[] = swapGrid({ ...grid, generator: "var-dag" }).map((s) => ({
    name: s.name,
    factor: s.factor,
    panel: { generator: "var-dag" as const, input: s.input },
  }));
  if (rawlog) out.push({ name: "rawlog", factor: "rawlog", panel: { generator: "rawlog", input: rawlog, scaler: { log1p: "all" } } });
  if (external) out.push({ name: "external", factor: "external", panel: { generator: "causalmmm-sim" } });
  return out;
}

/** The stress study's settings at one scale (notebook 06; notebook 02 reads its base setting). */
export interface StressStudy {
  grid: Partial<SwapGridConfig>;
  rawlog: RawlogInput | null;
  external: boolean;
  /** Seeds per method. */
  seeds: Partial<Record<StressMethod, readonly number[]>>;
  /** The configuration of every cell (its JSON is part of each cached result's key). */
  cell: Partial<StressCellConfig>;
}

/**
 * The stress study at each scale, in one place: notebook 06 runs all of it, and notebook 02 runs
 * its base setting with the same configuration, so that the two share those cached runs.
 */
export const STRESS_STUDY: { smoke: StressStudy; paper: StressStudy } = {
  smoke: {
    grid: { base: { R: 12, d: 5, T: 60 }, R: [8, 12], d: [5, 6], T: [60, 80] },
    rawlog: { units: 12, steps: 60, channels: 3, intermediates: 1, seed: 3 },
    external: false,
    seeds: { "dice-stage1": [1, 2], causalmmm: [1], "granger-unit": [1] },
    cell: { stage1: { fit: { epochs: 25 } }, causal: { model: { hidden: 16, encoderHidden: 16 }, fit: { epochs: 3, learningRate: 2e-3 }, batchSize: 8 } },
  },
  paper: {
    grid: { base: { R: 100, d: 8, T: 100 }, R: [20, 100, 300], d: [5, 8, 12], T: [50, 100, 200] },
    rawlog: { units: 100, steps: 100, seed: 3 },
    external: true,
    seeds: { "dice-stage1": [1, 2, 3, 4, 5], causalmmm: [1, 2, 3, 4, 5], "granger-unit": [1] },
    cell: { stage1: { fit: { epochs: 100 } }, causal: { model: { hidden: 16, encoderHidden: 16 }, fit: { epochs: 20, learningRate: 2e-3 }, batchSize: 8 } },
  },
};

/** One row of the stress study: a setting, a method, a seed and its result. */
export interface StressRow extends StressCellResult {
  setting: string;
  factor: string;
}

/** What {@link runStress} runs in every setting: the methods, their seeds and the cells' configuration. */
export interface StressRunConfig {
  methods: readonly StressMethod[];
  /** Seeds per method (default [1]). */
  seeds: Partial<Record<StressMethod, readonly number[]>>;
  /** The configuration of every cell (default {}). */
  config?: Partial<StressCellConfig>;
}

/** Every (setting, method, seed) as cached runner jobs in worker processes. */
export async function runStress(settings: readonly StressSetting[], run: StressRunConfig, options: RunOptions = {}): Promise<StressRow[]> {
  const { methods, seeds, config = {} } = run;
  const cellsOf = (s: StressSetting) =>
    methods.flatMap((method) => (seeds[method] ?? [1]).map((seed) => ({ s, job: stressCellJob({ panel: s.panel, method, seed, config }) })));
  const cells = settings.flatMap(cellsOf);
  const results = await runJobs(
    cells.map((c) => c.job),
    { label: "stress study", ...options },
  );
  return results.map((r, k) => ({ ...r, setting: cells[k].s.name, factor: cells[k].s.factor }));
}

/**
 * One stress method over seeds on one panel (every seed on the same panel), as cached runner jobs
 * in worker processes: what a notebook runs beside its own kernel work (notebook 03 trains
 * CausalMMM this way while its kernel trains DICE Stage 1). Results in seed order.
 */
export function runMethodSeeds(
  panel: PanelSpec,
  method: StressMethod,
  seeds: readonly number[],
  config: Partial<StressCellConfig> = {},
  options: RunOptions = {},
): Promise<StressCellResult[]> {
  const pending = runJobs(
    seeds.map((seed) => stressCellJob({ panel, method, seed, config })),
    { label: VARIANT_LABELS[method], ...options },
  );
  // awaited later, after other work: a failure must reach that await, not end the process as an unhandled rejection first
  pending.catch(() => {});
  return pending;
}

// ---------------------------------------------------------------------------------------------
// Graph recovery on the evaluation family and the external data
// ---------------------------------------------------------------------------------------------

/** One recovery job: the core methods (Stage 1, the pooled baselines and diagnose's choice) or one extra method, on one panel and seed. */
export interface RecoveryJob {
  panel: PanelSpec;
  /** "core", or one of the methods diagnose does not fit. */
  methods: "core" | RecoveryMethod;
  seed: number;
  config: Partial<RecoveryCellConfig>;
}

export const recoveryJob = registerJob<RecoveryJob, RecoveryResult[]>({
  kind: "recovery",
  version: LIBRARY_VERSION,
  module: __filename,
  run: async (c) => {
    const tp = panelFromSpec(c.panel);
    return c.methods === "core" ? recoveryCore(tp, c.seed, c.config) : [await recoveryExtra(tp, c.methods, c.seed, c.config)];
  },
});

/** A data set of the recovery study: a family member (its panel drawn anew per seed) or the external CausalMMM data (fixed). */
export interface RecoveryData {
  name: string;
  /** The panel of a seed. */
  panel: (seed: number) => PanelSpec;
}

/** The family members (with `override` merged over each) and, with `external`, the CausalMMM data. */
export function recoveryData(members: readonly string[], override: FamilyInput = {}, external = false): RecoveryData[] {
  const out: RecoveryData[] = members.map((member) => ({
    name: member,
    panel: (seed: number) => ({ generator: "family" as const, input: { member, seed, override } }),
  }));
  if (external) out.push({ name: "causalmmm-sim", panel: () => ({ generator: "causalmmm-sim" as const }) });
  return out;
}

/** The recovery study at one scale. */
export interface RecoveryStudy {
  members: readonly string[];
  /** Merged over every member (smoke: smaller panels). */
  override: FamilyInput;
  external: boolean;
  seeds: readonly number[];
  /** Methods beyond the core ones, with their own seeds (they are the expensive ones). */
  extra: Partial<Record<RecoveryMethod, readonly number[]>>;
  /** Role settings to run the core methods with, each over `seeds` (false: unconstrained; true: role-constrained). */
  roles: readonly boolean[];
  cell: Partial<RecoveryCellConfig>;
}

/** The recovery study at each scale, in one place (notebook 09). */
export const RECOVERY_STUDY: { smoke: RecoveryStudy; paper: RecoveryStudy } = {
  smoke: {
    members: ["linear-short", "linear-long", "media-short", "media-per-unit", "hetero-scales", "confounded"],
    override: { units: 24, steps: 100 },
    external: false,
    seeds: [1, 2, 3],
    extra: { "granger-unit": [1] },
    roles: [false, true],
    cell: { stage1: { fit: { epochs: 60 } } },
  },
  paper: {
    members: ["linear-short", "linear-long", "media-short", "media-per-unit", "hetero-scales", "confounded"],
    override: {},
    external: true,
    seeds: [1, 2, 3, 4, 5],
    extra: { "granger-unit": [1, 2, 3, 4, 5], causalmmm: [1, 2, 3], deepcausalmmm: [1, 2, 3] },
    roles: [false, true],
    cell: {
      stage1: { fit: { epochs: 200 } },
      causal: { model: { hidden: 16, encoderHidden: 16 }, fit: { epochs: 10, learningRate: 2e-3 }, batchSize: 8 },
      deepcausal: { fit: { epochs: 15 } },
    },
  },
};

/** Every (data, seed) core job and every extra method's jobs, as cached runner jobs in worker processes. */
export async function runRecovery(study: RecoveryStudy, options: RunOptions = {}): Promise<RecoveryRow[]> {
  const data = recoveryData(study.members, study.override, study.external);
  const cells: { data: string; job: Job<RecoveryResult[]> }[] = [];
  for (const d of data) {
    for (const roles of study.roles)
      for (const seed of study.seeds)
        cells.push({ data: d.name, job: recoveryJob({ panel: d.panel(seed), methods: "core", seed, config: { ...study.cell, roles } }) });
    for (const [method, seeds] of Object.entries(study.extra) as [RecoveryMethod, readonly number[]][])
      for (const seed of seeds)
        cells.push({ data: d.name, job: recoveryJob({ panel: d.panel(seed), methods: method, seed, config: { ...study.cell, roles: false } }) });
  }
  const results = await runJobs(
    cells.map((c) => c.job),
    { label: "graph recovery", ...options },
  );
  return results.flatMap((r, k) => r.map((x) => ({ ...x, data: cells[k].data })));
}
