/**
 * The bypass-prone benchmark (STUDY.md, "Data" 7): the sparse-target benchmark
 * (lib/data/simulate.ts, `generateSparseTarget`) plus the routes by which a forecaster can
 * predict the target without its causal parents, each with a strength in
 * {@link BypassProneConfig} (defaults in {@link BYPASS_PRONE_DEFAULTS}; strength 0 turns a route
 * off, and with every route off the panel is the sparse-target panel of the same seed and
 * settings, draw for draw):
 *
 * - channels that co-move: a campaign calendar shared by the channels of a unit (`calendarShare`);
 * - budgets that follow past demand: spend scales with a latent demand shock of the step before
 *   (`budgetFeedback`);
 * - a common driver of target and spend: the same demand shock enters the target (`confounding`);
 * - context that shifts the target's level (`contextLevel`);
 * - strong target autoregression (`arTarget`, default [0.8, 0.9]).
 *
 * The demand shock is a latent series, not a node: the true graph holds the causal edges only.
 * {@link generateBypassProne} gives the equations and what every panel records.
 */
import { Rng } from "../rng";
import {
  type RunAdditions,
  type SimulationResult,
  type SparseTargetConfig,
  type SparseTargetInput,
  type VarDagTruth,
  SPARSE_TARGET_DEFAULTS,
  mergeSparseTargetConfig,
  nextFlightState,
  simulatePanel,
  targetShareParams,
} from "./simulate";

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

/** The strengths of the bypass routes (see {@link generateBypassProne} for the equations). */
export interface BypassRoutes {
  /** w in [0, 1]: probability that a channel follows the unit's shared calendar at a step (0: independent flights, 1: one calendar). */
  calendarShare: number;
  /** b >= 0: budget response to past demand; channel j's elasticity beta_j = b * U(0.5, 1.5). */
  budgetFeedback: number;
  /** phi in [0, 1): autoregression of the latent demand d (stationary SD 1). */
  demandAr: number;
  /** gamma >= 0: load of the demand d(t) in the target's equation. */
  confounding: number;
  /** lambda >= 0: scale of the target's context level shift. */
  contextLevel: number;
}

/** The bypass-prone benchmark's configuration: a sparse-target configuration plus the routes' strengths. */
export interface BypassProneConfig extends SparseTargetConfig, BypassRoutes {}

/** Paper scale (R = 100, d = 8, T = 200), as the sparse-target benchmark, with a_target in [0.8, 0.9] and every route on. */
export const BYPASS_PRONE_DEFAULTS: BypassProneConfig = {
  ...SPARSE_TARGET_DEFAULTS,
  arTarget: [0.8, 0.9],
  calendarShare: 0.7,
  budgetFeedback: 0.5,
  demandAr: 0.9,
  confounding: 0.5,
  contextLevel: 1,
};

const ROUTES = ["calendarShare", "budgetFeedback", "demandAr", "confounding", "contextLevel"] as const;

export type BypassProneInput = SparseTargetInput & Partial<BypassRoutes>;

// ---------------------------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------------------------

/** An additive term of a node's equation: `extra_i(t) = demandLoad * d_u(t) + level[u]` in unit u. */
export interface ExtraTerm {
  node: string;
  /** Load of the latent demand d_u(t). */
  demandLoad: number;
  /** The constant level shift of each unit (from its context). */
  level: number[];
}

/** What the bypass routes draw (recorded in `panel.provenance.params.drawn` beside the run's draws). */
export interface BypassProneDraws {
  /** beta_j: each channel's budget response to the previous step's demand. */
  budgetElasticity: number[];
  /** theta_k: the target's level load on each context value. */
  contextLoad: number[];
  /** The latent demand d_u(t) over the kept steps (after burn-in), `[units][steps]`. */
  demand: number[][];
  /** The shared calendar of each unit over the kept steps: "1" on, "0" off (drawn, and unused at calendarShare 0). */
  calendar: string[];
  /** The additive terms of the non-root nodes (the target's only). */
  extra: ExtraTerm[];
}

export type BypassProneTruth = VarDagTruth & BypassProneDraws;

/**
 * A node's additive term in unit u at every step of `demand` (unit u's demand series: the
 * recorded kept steps, or the generator's full series): `demandLoad * d(t) + level[u]`.
 */
export function extraSeries(term: ExtraTerm, u: number, demand: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: demand.length }, (_, t) => term.demandLoad * demand[t] + term.level[u]);
}

// ---------------------------------------------------------------------------------------------
// The generator
// ---------------------------------------------------------------------------------------------

function checkRoutes(c: BypassRoutes): void {
  const bad = (d: string): never => {
    throw new Error(`generateBypassProne: ${d}`);
  };
  if (!(c.calendarShare >= 0 && c.calendarShare <= 1)) bad(`calendarShare must be in [0, 1], got ${c.calendarShare}`);
  if (!(c.demandAr >= 0 && c.demandAr < 1)) bad(`demandAr must be in [0, 1), got ${c.demandAr}`);
  for (const k of ["budgetFeedback", "confounding", "contextLevel"] as const)
    if (!(c[k] >= 0 && Number.isFinite(c[k]))) bad(`${k} must be finite and >= 0, got ${c[k]}`);
}

/**
 * The bypass-prone benchmark: a sparse-target panel (`generateSparseTarget`: the target has
 * 1 or 2 parents, strong own autoregression, and its parents explain `targetShare` of its
 * within-unit variance, calibrated) plus the bypass routes. Per unit u (context c_u, graph g),
 * with all series simulated over burn-in and kept steps:
 *
 * - **Latent demand** (not a node): `d_u(t) = phi d_u(t-1) + sqrt(1 - phi^2) eta_u(t)`,
 *   `d_u(0) ~ N(0, 1)`, eta ~ N(0, 1), so d has SD 1 (`demandAr` = phi).
 * - **Shared calendar**: a flight chain K_u(t) of the unit, the media's own two-state chain
 *   (`media.meanOn`, `media.meanOff`). Channel j is on at step t when K_u(t) is on with
 *   probability w = `calendarShare`, and otherwise when its own chain O_j(t) is on; the spend of
 *   an on step (level, noise, bursts, dark days) is drawn as in the sparse-target benchmark.
 * - **Budgets that follow past demand**: the drawn spend s0_j(t) is scaled,
 *   `s_j(t) = s0_j(t) exp(beta_j d_u(t-1) - beta_j^2 / 2)` (mean one; 1 at the first burn-in step),
 *   beta_j = b U(0.5, 1.5) with b = `budgetFeedback`. Spend depends on the calendar and on d,
 *   never on an observed node: channels stay exogenous roots.
 * - **Confounding and the context level**: the target's equation gains an additive term,
 *
 *       x_T(t) = a_T x_T(t-1) + sum_j sum_{l=1..L} W_g[T, j, l] f_j(t-l) + extra_u(t) + e_T(t),
 *       extra_u(t) = gamma d_u(t) + level_u,   level_u = lambda sum_k theta_k (c_{u,k} - 0.5),
 *
 *   gamma = `confounding`, lambda = `contextLevel`, theta_k = +-U(0.5, 1) (random sign). The
 *   intermediates follow the sparse-target equations unchanged. The extra term does not depend
 *   on the nodes; the calibration counts it with the noise (the parents explain `targetShare` of
 *   the target's within-unit variance, demand included; the level is constant within a unit).
 *
 * So the non-root nodes follow `x_i(t) = a_i x_i(t-1) + sum_j sum_l W[i,j,l] f_j(t-l) + extra_i(t) + e_i(t)`
 * and the true graph has the causal edges only (d is a common driver of the target and every
 * channel's spend: confounding, with no edge). The routes draw from their own stream of the seed
 * (parameters, then per unit the calendar and the demand), so the run's graphs, parameters and
 * contexts are those of the sparse-target panel of the same seed; the calendar changes the media
 * draws (not when w = 0).
 *
 * Provenance: `generator` "bypass-prone"; `params.config` (every setting);
 * `params.achievedTargetShare` and `targetInnovationShare` (the innovation counts the extra term
 * with the noise); `params.drawn`: the run's draws, as the sparse-target panels record them
 * (graphOfUnit, ar, edges, channels, ...), plus {@link BypassProneDraws} (the elasticities, the
 * context loads, the demand and the calendar over the kept steps, and the extra terms, from which
 * {@link extraSeries} gives the target's additive term exactly); `params.graphWorth`.
 */
export function generateBypassProne(
  input: BypassProneInput = {},
): SimulationResult & { config: BypassProneConfig; truth: BypassProneTruth; achievedTargetShare: number } {
  const sparse = mergeSparseTargetConfig(BYPASS_PRONE_DEFAULTS, input, "generateBypassProne");
  const routes = Object.fromEntries(ROUTES.map((k) => [k, input[k] ?? BYPASS_PRONE_DEFAULTS[k]])) as unknown as BypassRoutes;
  const config: BypassProneConfig = { ...sparse, ...routes };
  checkRoutes(config);
  const { panel, truth, additions } = simulatePanel(config, "bypass-prone", {
    params: targetShareParams,
    extend: (ctx) => drawRoutes(config, ctx),
  });
  return {
    panel,
    config,
    truth: { ...truth, ...(additions!.drawn as unknown as BypassProneDraws) },
    achievedTargetShare: targetShareParams(truth).achievedTargetShare,
  };
}

/** The routes' draws and the run's additions (see {@link generateBypassProne}), over burn-in and kept steps. */
function drawRoutes(c: BypassProneConfig, ctx: number[][]): RunAdditions {
  const Ttot = c.burnIn + c.steps;
  const C = c.channels;
  const M = c.intermediates + 1;
  const rng = new Rng((c.seed ^ 0x2c1b3c6d) >>> 0); // the routes' own stream
  const budgetElasticity = Array.from({ length: C }, () => c.budgetFeedback * rng.range(0.5, 1.5));
  const contextLoad = Array.from({ length: c.contextDim }, () => (rng.bernoulli(0.5) ? -1 : 1) * rng.range(0.5, 1));
  const phi = c.demandAr;
  const innovation = Math.sqrt(1 - phi * phi);
  const calendars: Uint8Array[] = [];
  const demand: Float64Array[] = [];
  for (let u = 0; u < c.units; u++) {
    const r = rng.fork();
    const on = new Uint8Array(Ttot);
    let k = nextFlightState(c.media, r);
    for (let t = 0; t < Ttot; t++) {
      if (t > 0) k = nextFlightState(c.media, r, k);
      on[t] = k ? 1 : 0;
    }
    const d = new Float64Array(Ttot);
    for (let t = 0; t < Ttot; t++) d[t] = t === 0 ? r.normal() : phi * d[t - 1] + innovation * r.normal();
    calendars.push(on);
    demand.push(d);
  }
  const term: ExtraTerm = {
    node: "target",
    demandLoad: c.confounding,
    level: ctx.map((cu) => c.contextLevel * cu.reduce((a, v, k) => a + contextLoad[k] * (v - 0.5), 0)),
  };
  const multiplier = (u: number, j: number) =>
    Float64Array.from({ length: Ttot }, (_, t) => (t === 0 ? 1 : Math.exp(budgetElasticity[j] * demand[u][t - 1] - budgetElasticity[j] ** 2 / 2)));
  const drawn: BypassProneDraws = {
    budgetElasticity,
    contextLoad,
    demand: demand.map((d) => Array.from(d.subarray(c.burnIn))),
    calendar: calendars.map((on) => Array.from(on.subarray(c.burnIn)).join("")),
    extra: [term],
  };
  const hasExtra = c.confounding !== 0 || (c.contextLevel !== 0 && c.contextDim > 0);
  return {
    calendar: c.calendarShare > 0 ? calendars.map((on) => ({ on, share: c.calendarShare })) : undefined,
    spendMultiplier: c.budgetFeedback > 0 ? demand.map((_, u) => Array.from({ length: C }, (_, j) => multiplier(u, j))) : undefined,
    extra: hasExtra ? demand.map((d, u) => Array.from({ length: M }, (_, m) => (m === M - 1 ? extraSeries(term, u, d) : undefined))) : undefined,
    drawn: drawn as unknown as Record<string, unknown>,
  };
}
