/**
 * Seeded simulators of the study's synthetic panels (STUDY.md, "Data" 2-5), so that the study has
 * panels whose true graphs and parameters are known: the VAR-DAG ({@link generateVarDag}), the
 * sparse-target benchmark ({@link generateSparseTarget}), the R/d/T swaps ({@link swapGrid},
 * {@link generateSwap}) and the rawlog stress ({@link generateRawlog}); the bypass-prone benchmark
 * (lib/data/bypass-prone.ts) is built on the same run ({@link simulatePanel}). Every generator
 * records its full configuration, the seed, the graphs and every drawn parameter in
 * `panel.provenance.params`, and returns them typed as well, beside the panel's graph-worth record
 * (`params.graphWorth`, lib/data/graph-worth.ts).
 */
import type { Graph } from "../graph";
import { edgeCount, emptyGraph, isAcyclic } from "../graph";
import { Rng } from "../rng";
import { graphWorth, graphWorthWindows } from "./graph-worth";
import { type NodeRole, type Panel, validatePanel } from "./panel";

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

/** The media (root) process. */
export interface MediaConfig {
  /** Median on-flight spend level (log-normal across units and channels). */
  levelMedian: number;
  /** SD of the log level across units and channels. */
  levelLogSd: number;
  /** Mean length of an on-flight, in steps (on/off two-state Markov chain). */
  meanOn: number;
  /** Mean length of an off period (zero spend), in steps. */
  meanOff: number;
  /** SD of the multiplicative log-normal noise on on-flight spend. */
  noiseLogSd: number;
  /** Probability that a burst starts at an on step. */
  burstProb: number;
  /** A burst multiplies spend by U(burstMin, burstMax) ... */
  burstMin: number;
  burstMax: number;
  /** ... for 1..burstMaxLength steps. */
  burstMaxLength: number;
  /** Probability of zero spend at an on step (a dark day). */
  zeroProb: number;
}

export const MEDIA_DEFAULTS: MediaConfig = {
  levelMedian: 1,
  levelLogSd: 0.5,
  meanOn: 8,
  meanOff: 4,
  noiseLogSd: 0.3,
  burstProb: 0.05,
  burstMin: 2,
  burstMax: 5,
  burstMaxLength: 3,
  zeroProb: 0.05,
};

/** Adstock and Hill saturation of the channels (ignored when `linear`). */
export interface SaturationConfig {
  /** Geometric adstock decay lambda_j ~ U(adstockMin, adstockMax) per channel. */
  adstockMin: number;
  adstockMax: number;
  /** Hill exponent s_j ~ U(slopeMin, slopeMax) per channel. */
  slopeMin: number;
  slopeMax: number;
  /**
   * Half-point kappa_j = U(halfMin, halfMax) x the channel's typical adstocked level
   * (levelMedian x duty cycle / (1 - lambda_j)).
   */
  halfMin: number;
  halfMax: number;
  /** gamma_{j,k} ~ U(-contextEffect, contextEffect): how the context moves the half-point (log scale). */
  contextEffect: number;
}

export const SATURATION_DEFAULTS: SaturationConfig = {
  adstockMin: 0.2,
  adstockMax: 0.7,
  slopeMin: 1,
  slopeMax: 3,
  halfMin: 0.5,
  halfMax: 1.5,
  contextEffect: 1.5,
};

/** The VAR-DAG generator's configuration. */
export interface VarDagConfig {
  /** R, the number of units. */
  units: number;
  /** Number of channels (media roots). N = channels + intermediates + 1. */
  channels: number;
  /** Number of intermediate (funnel) nodes. */
  intermediates: number;
  /** T, the number of steps kept (after burn-in). */
  steps: number;
  /** Steps simulated first and discarded. */
  burnIn: number;
  /** K, the number of distinct DAGs. */
  graphs: number;
  /** rho: probability of each allowed edge (j < i, i not a channel). */
  density: number;
  /** L, the number of lags of every edge. */
  lags: number;
  /** k, the number of context values per unit (0: no context). */
  contextDim: number;
  /** f_j = identity for every sender (no adstock, no saturation). */
  linear: boolean;
  /** Own autoregression a_i ~ U(min, max) of the intermediates. */
  arIntermediate: [number, number];
  /** Own autoregression of the target. */
  arTarget: [number, number];
  /** Share of an intermediate's variance due to its parents (calibrated). */
  parentShareIntermediate: number;
  /** Share of the target's variance due to its parents (calibrated). */
  parentShareTarget: number;
  /** Edge magnitude m_ij ~ U(weightMin, weightMax) before calibration. */
  weightMin: number;
  weightMax: number;
  /** Probability that an edge's sign is negative. */
  negativeEdgeProb: number;
  /** Lag profile ratio rho_ij ~ U(lagDecayMin, lagDecayMax): W[., ., s] proportional to rho^(s-1). */
  lagDecayMin: number;
  lagDecayMax: number;
  /** When set, the target gets exactly n parents, n uniform in [min, max], instead of density. */
  targetParents?: { min: number; max: number };
  /** Noise distribution of e_i: Gaussian or Student-t (scaled to SD noiseSd). */
  noise: "gaussian" | "student-t";
  /** Degrees of freedom of Student-t noise (> 2). */
  noiseDf: number;
  /** SD of e_i. */
  noiseSd: number;
  /** The generator refuses a companion spectral radius at or above this. */
  maxSpectralRadius: number;
  media: MediaConfig;
  saturation: SaturationConfig;
  seed: number;
}

export const VAR_DAG_DEFAULTS: VarDagConfig = {
  units: 100,
  channels: 5,
  intermediates: 2,
  steps: 200,
  burnIn: 100,
  graphs: 3,
  density: 0.5,
  lags: 3,
  contextDim: 2,
  linear: false,
  arIntermediate: [0.2, 0.6],
  arTarget: [0.3, 0.7],
  parentShareIntermediate: 0.5,
  parentShareTarget: 0.5,
  weightMin: 0.5,
  weightMax: 1.5,
  negativeEdgeProb: 0,
  lagDecayMin: 0.3,
  lagDecayMax: 0.8,
  noise: "gaussian",
  noiseDf: 5,
  noiseSd: 1,
  maxSpectralRadius: 0.99,
  media: MEDIA_DEFAULTS,
  saturation: SATURATION_DEFAULTS,
  seed: 1,
};

/** A partial configuration: any field, nested media / saturation fields too. */
export type VarDagInput = Partial<Omit<VarDagConfig, "media" | "saturation">> & {
  media?: Partial<MediaConfig>;
  saturation?: Partial<SaturationConfig>;
};

/** Merges a partial configuration over defaults (nested objects field by field). */
export function mergeVarDagConfig(base: VarDagConfig, input: VarDagInput = {}): VarDagConfig {
  return {
    ...base,
    ...input,
    media: { ...base.media, ...(input.media ?? {}) },
    saturation: { ...base.saturation, ...(input.saturation ?? {}) },
  } as VarDagConfig;
}

// ---------------------------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------------------------

/** One edge j -> i of one graph with its lag weights W[i,j,1..L] (after calibration). */
export interface EdgeWeights {
  graph: number;
  source: string;
  target: string;
  /** W[i, j, s] for s = 1..L. */
  weights: number[];
}

/** Per-channel media and saturation parameters. */
export interface ChannelParams {
  name: string;
  /** Geometric adstock decay lambda_j (unused when linear). */
  adstock: number;
  /** Hill exponent s_j. */
  slope: number;
  /** Base half-point kappa_j (before the context effect). */
  halfPoint: number;
  /** gamma_{j,k}: kappa_{r,j} = kappa_j exp(sum_k gamma_{j,k} (c_{r,k} - 0.5)). */
  contextGamma: number[];
}

/** How well the calibration hit the requested parent share, per non-root node. */
export interface ShareReport {
  node: string;
  requested: number;
  /** Pooled over all units: sum_u Var_t(scale xP) / sum_u Var_t(x). */
  achieved: number;
  /** Per graph (NaN for a graph in which the node has no parents or no units). */
  byGraph: number[];
  /** Spread over units of the per-unit share. */
  unitMin: number;
  unitMedian: number;
  unitMax: number;
  /** Share of the one-step innovation (P + e) due to the parents, pooled. */
  innovationShare: number;
}

/** Everything drawn by a VAR-DAG run (also stored in `panel.provenance.params.drawn`). */
export interface VarDagTruth {
  graphs: Graph[];
  graphOfUnit: number[];
  /** a_i per node (0 for channels). */
  ar: number[];
  edges: EdgeWeights[];
  channels: ChannelParams[];
  /** Calibrated scale per graph and node (1 for nodes without parents). `[graphs][nodes]`. */
  scale: number[][];
  shares: ShareReport[];
  /** Companion spectral radius of the non-root block, per graph. */
  spectralRadius: number[];
  /** Realised edge density over the N(N-1) ordered pairs, per graph. */
  realisedDensity: number[];
}

/** A generated panel and what generated it. */
export interface SimulationResult {
  panel: Panel;
  config: VarDagConfig;
  truth: VarDagTruth;
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** Node names and roles for C channels and M intermediates: ch1.., mid1.., target. */
export function nodeLayout(channels: number, intermediates: number): { names: string[]; roles: NodeRole[] } {
  const names = [...Array.from({ length: channels }, (_, k) => `ch${k + 1}`), ...Array.from({ length: intermediates }, (_, k) => `mid${k + 1}`), "target"];
  const roles: NodeRole[] = [...Array(channels).fill("channel"), ...Array(intermediates).fill("intermediate"), "target"];
  return { names, roles };
}

/**
 * Geometric adstock of a spend series: `A(t) = x(t) + lambda A(t-1)`, starting from `A(-1) = 0`.
 * The generator applies it to every channel before the Hill saturation (burn-in included).
 */
export function geometricAdstock(x: ArrayLike<number>, lambda: number): Float64Array {
  const out = new Float64Array(x.length);
  let A = 0;
  for (let t = 0; t < x.length; t++) {
    A = x[t] + lambda * A;
    out[t] = A;
  }
  return out;
}

/**
 * Hill saturation of an adstocked level `a >= 0`: `a^s / (a^s + kappa^s)`, in [0, 1), equal to
 * 1/2 at the half-point `a = kappa`; `s` is the Hill exponent (the generator's `slope`).
 */
export function hillSaturation(a: number, halfPoint: number, slope: number): number {
  const as = a ** slope;
  return as / (as + halfPoint ** slope);
}

/**
 * The half-point of a channel for one unit's context `c` (k values):
 * `kappa_{r,j} = kappa_j exp(sum_k gamma_{j,k} (c_k - 0.5))`, so a context at 0.5 everywhere
 * gives the base half-point. (A panel stores its context as float32; the generator used the
 * float64 draws, so a half-point recomputed from `panel.context` agrees to float32 precision.)
 */
export function contextHalfPoint(channel: Pick<ChannelParams, "halfPoint" | "contextGamma">, context: ArrayLike<number>): number {
  const gamma = channel.contextGamma;
  if (context.length !== gamma.length) throw new Error(`contextHalfPoint: ${gamma.length} context values expected, got ${context.length}`);
  return channel.halfPoint * Math.exp(gamma.reduce((a, g, k) => a + g * (context[k] - 0.5), 0));
}

/**
 * The saturation curve of a channel for a context: `hillSaturation(a, contextHalfPoint(channel, c), s_j)`
 * at each adstocked level `a` of `levels` (the response the generator feeds to the channel's children).
 */
export function saturationCurve(
  channel: Pick<ChannelParams, "halfPoint" | "contextGamma" | "slope">,
  context: ArrayLike<number>,
  levels: readonly number[],
): number[] {
  const kappa = contextHalfPoint(channel, context);
  return levels.map((a) => hillSaturation(a, kappa, channel.slope));
}

/** Flight statistics of one channel, pooled over units (see `spendFlights`). */
export interface FlightSummary {
  node: string;
  /** Share of (unit, step) cells with zero spend. */
  zeroShare: number;
  /** Mean number of flights (maximal runs of positive spend) per unit. */
  flightsPerUnit: number;
  /** Mean length of a flight, in steps. */
  meanFlight: number;
  /** Mean length of a gap (maximal run of zero spend), in steps; NaN when there is none. */
  meanGap: number;
  /** Mean spend over the positive steps. */
  meanOnSpend: number;
  /**
   * Share of positive steps whose spend exceeds `burstFactor` x the median positive spend of the
   * same unit and channel: a proxy for bursts.
   */
  burstShare: number;
}

/**
 * Summarises the spend flights of a panel's channels (role "channel"): zero share, flights (runs
 * of positive spend) and gaps (runs of zero spend) per unit and their mean lengths, pooled over
 * the given units (all by default). Runs cut by the first or last step count as runs. Spend is
 * expected to be non-negative (a standardised panel has no zeros to speak of).
 */
export function spendFlights(panel: Panel, options: { units?: readonly number[]; burstFactor?: number } = {}): FlightSummary[] {
  const units = options.units ?? Array.from({ length: panel.units }, (_, u) => u);
  const burstFactor = options.burstFactor ?? 2;
  if (units.length === 0) throw new Error("spendFlights: no units");
  const T = panel.steps;
  const N = panel.nodes;
  const out: FlightSummary[] = [];
  panel.roles.forEach((role, j) => {
    if (role !== "channel") return;
    let zeros = 0;
    let flights = 0;
    let flightSteps = 0;
    let gaps = 0;
    let gapSteps = 0;
    let onSum = 0;
    let bursts = 0;
    for (const u of units) {
      const on: number[] = [];
      let prev: boolean | undefined;
      for (let t = 0; t < T; t++) {
        const v = panel.values[(u * T + t) * N + j];
        const positive = v > 0;
        if (positive) {
          on.push(v);
          onSum += v;
          flightSteps++;
          if (prev !== true) flights++;
        } else {
          zeros++;
          gapSteps++;
          if (prev !== false) gaps++;
        }
        prev = positive;
      }
      if (on.length > 0) {
        const med = median(on);
        bursts += on.filter((v) => v > burstFactor * med).length;
      }
    }
    out.push({
      node: panel.nodeNames[j],
      zeroShare: zeros / (units.length * T),
      flightsPerUnit: flights / units.length,
      meanFlight: flights > 0 ? flightSteps / flights : NaN,
      meanGap: gaps > 0 ? gapSteps / gaps : NaN,
      meanOnSpend: flightSteps > 0 ? onSum / flightSteps : NaN,
      burstShare: flightSteps > 0 ? bursts / flightSteps : NaN,
    });
  });
  return out;
}

/** Channels / intermediates for d nodes in the R/d/T swaps: 60% channels (rounded up) among the d - 1 non-targets. */
export function rolesForNodes(d: number): { channels: number; intermediates: number } {
  if (!Number.isInteger(d) || d < 3) throw new Error(`rolesForNodes: d must be an integer >= 3, got ${d}`);
  const channels = Math.ceil(0.6 * (d - 1));
  return { channels, intermediates: d - 1 - channels };
}

function checkConfig(c: VarDagConfig): void {
  const bad = (d: string): never => {
    throw new Error(`simulate: ${d}`);
  };
  const posInt = (k: keyof VarDagConfig) => {
    if (!Number.isInteger(c[k]) || (c[k] as number) < 1) bad(`${k} must be a positive integer, got ${c[k]}`);
  };
  (["units", "channels", "steps", "graphs", "lags"] as const).forEach(posInt);
  if (!Number.isInteger(c.intermediates) || c.intermediates < 0) bad(`intermediates must be an integer >= 0`);
  if (!Number.isInteger(c.contextDim) || c.contextDim < 0) bad(`contextDim must be an integer >= 0`);
  if (!Number.isInteger(c.burnIn) || c.burnIn < c.lags) bad(`burnIn must be an integer >= lags (${c.lags})`);
  if (!(c.density >= 0 && c.density <= 1)) bad(`density must be in [0, 1]`);
  for (const k of ["parentShareIntermediate", "parentShareTarget"] as const) if (!(c[k] >= 0 && c[k] < 1)) bad(`${k} must be in [0, 1)`);
  for (const k of ["arIntermediate", "arTarget"] as const) {
    const [lo, hi] = c[k];
    if (!(lo >= -1 && lo <= hi && hi < 1 && lo > -1)) bad(`${k} must be a range inside (-1, 1), got [${lo}, ${hi}]`);
  }
  if (!(c.maxSpectralRadius > 0 && c.maxSpectralRadius <= 1)) bad(`maxSpectralRadius must be in (0, 1]`);
  if (!(c.noiseSd > 0)) bad(`noiseSd must be > 0`);
  if (c.noise !== "gaussian" && c.noise !== "student-t") bad(`noise must be "gaussian" or "student-t"`);
  if (c.noise === "student-t" && !(Number.isInteger(c.noiseDf) && c.noiseDf > 2)) bad(`noiseDf must be an integer > 2`);
  if (!(c.weightMin > 0 && c.weightMin <= c.weightMax)) bad(`0 < weightMin <= weightMax required`);
  if (!(c.lagDecayMin > 0 && c.lagDecayMin <= c.lagDecayMax)) bad(`0 < lagDecayMin <= lagDecayMax required`);
  const N = c.channels + c.intermediates + 1;
  if (c.targetParents) {
    const { min, max } = c.targetParents;
    if (!(Number.isInteger(min) && Number.isInteger(max) && min >= 1 && min <= max && max <= N - 1)) {
      bad(`targetParents must be integers 1 <= min <= max <= ${N - 1}`);
    }
  }
  const m = c.media;
  if (!(m.levelMedian > 0 && m.meanOn >= 1 && m.meanOff >= 1 && m.burstMin >= 1 && m.burstMax >= m.burstMin && m.burstMaxLength >= 1)) {
    bad(`media configuration out of range: ${JSON.stringify(m)}`);
  }
  for (const k of ["burstProb", "zeroProb"] as const) if (!(m[k] >= 0 && m[k] < 1)) bad(`media.${k} must be in [0, 1)`);
  const s = c.saturation;
  const adstockOk = s.adstockMin >= 0 && s.adstockMax < 1 && s.adstockMin <= s.adstockMax;
  if (!(adstockOk && s.slopeMin > 0 && s.slopeMin <= s.slopeMax && s.halfMin > 0 && s.halfMin <= s.halfMax && s.contextEffect >= 0)) {
    bad(`saturation configuration out of range: ${JSON.stringify(s)}`);
  }
}

/** K DAGs over the layout (see {@link generateVarDag}). */
function sampleGraphs(c: VarDagConfig, rng: Rng): Graph[] {
  const C = c.channels;
  const N = C + c.intermediates + 1;
  const tgt = N - 1;
  const one = (): Graph => {
    const g = emptyGraph(N);
    for (let i = C; i < N; i++) {
      if (i === tgt && c.targetParents) {
        const { min, max } = c.targetParents;
        const n = min + rng.int(max - min + 1);
        const cand = rng.shuffle(Array.from({ length: tgt }, (_, j) => j));
        for (const j of cand.slice(0, n)) g[j][i] = 1;
        continue;
      }
      let any = false;
      for (let j = 0; j < i; j++) {
        if (rng.bernoulli(c.density)) {
          g[j][i] = 1;
          any = true;
        }
      }
      if (!any) g[rng.int(i)][i] = 1;
    }
    return g;
  };
  const graphs: Graph[] = [];
  const keys = new Set<string>();
  for (let k = 0; k < c.graphs; k++) {
    let g = one();
    for (let tries = 0; tries < 200 && keys.has(JSON.stringify(g)); tries++) g = one();
    keys.add(JSON.stringify(g));
    if (!isAcyclic(g)) throw new Error("simulate: internal: sampled graph has a cycle");
    graphs.push(g);
  }
  return graphs;
}

/**
 * The on/off flight process of the media: a two-state Markov chain that leaves an on-flight with
 * probability 1 / meanOn and an off period with probability 1 / meanOff at each step. Without
 * `on`, the first state, drawn from the chain's stationary distribution; with it, the next state.
 */
export function nextFlightState(m: Pick<MediaConfig, "meanOn" | "meanOff">, rng: Rng, on?: boolean): boolean {
  if (on === undefined) return rng.bernoulli(m.meanOn / (m.meanOn + m.meanOff));
  return on ? !rng.bernoulli(1 / m.meanOn) : rng.bernoulli(1 / m.meanOff);
}

/** A campaign calendar shared by the channels of a unit (see {@link RunAdditions}). */
export interface SharedCalendar {
  /** On (1) or off (0) at each step, burn-in included. */
  on: Uint8Array;
  /** Probability that a channel follows the calendar's state at a step instead of its own flight process. */
  share: number;
}

/**
 * Non-negative media spend with flights, bursts and zeros; `Float64Array(length)`. With a
 * calendar, the channel's own flight process still runs, but at each step the channel is on when
 * the calendar is (probability `share`) or when its own process is (otherwise).
 */
function mediaSeries(m: MediaConfig, length: number, rng: Rng, calendar?: SharedCalendar): Float64Array {
  const out = new Float64Array(length);
  const level = m.levelMedian * Math.exp(m.levelLogSd * rng.normal());
  let own = nextFlightState(m, rng);
  let burstLeft = 0;
  let burstFactor = 1;
  for (let t = 0; t < length; t++) {
    if (t > 0) own = nextFlightState(m, rng, own);
    const on = calendar && rng.bernoulli(calendar.share) ? calendar.on[t] === 1 : own;
    if (!on) {
      burstLeft = 0;
      continue;
    }
    if (burstLeft === 0 && rng.bernoulli(m.burstProb)) {
      burstLeft = 1 + rng.int(m.burstMaxLength);
      burstFactor = rng.range(m.burstMin, m.burstMax);
    }
    let x = level * Math.exp(m.noiseLogSd * rng.normal() - (m.noiseLogSd * m.noiseLogSd) / 2);
    if (burstLeft > 0) {
      x *= burstFactor;
      burstLeft--;
    }
    if (rng.bernoulli(m.zeroProb)) x = 0;
    out[t] = x;
  }
  return out;
}

/** Spectral radius of a square matrix by the Gelfand formula ||A^(2^m)||^(1/2^m). */
export function spectralRadius(A: number[][]): number {
  const n = A.length;
  if (n === 0) return 0;
  let B = A.map((r) => Float64Array.from(r));
  let logScale = 0; // log of the factor divided out so far, B_true = B * exp(logScale)
  let est = 0;
  for (let m = 1; m <= 40; m++) {
    const C = Array.from({ length: n }, () => new Float64Array(n));
    for (let i = 0; i < n; i++)
      for (let k = 0; k < n; k++) {
        const b = B[i][k];
        if (b === 0) continue;
        for (let j = 0; j < n; j++) C[i][j] += b * B[k][j];
      }
    logScale *= 2;
    let norm = 0;
    for (const r of C) for (const v of r) norm += v * v;
    norm = Math.sqrt(norm);
    if (norm === 0) return 0;
    for (const r of C) for (let j = 0; j < n; j++) r[j] /= norm;
    logScale += Math.log(norm);
    B = C;
    est = Math.exp(logScale / 2 ** m);
  }
  return est;
}

function median(a: number[]): number {
  const s = a.filter((x) => Number.isFinite(x)).sort((x, y) => x - y);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Within-series variance-type sums over [from, to): Σ(a-ā)², Σ(b-b̄)², Σ(a-ā)(b-b̄). */
function centredSums(a: Float64Array, b: Float64Array, from: number, to: number): [number, number, number] {
  let ma = 0;
  let mb = 0;
  const n = to - from;
  for (let t = from; t < to; t++) {
    ma += a[t];
    mb += b[t];
  }
  ma /= n;
  mb /= n;
  let saa = 0;
  let sbb = 0;
  let sab = 0;
  for (let t = from; t < to; t++) {
    const da = a[t] - ma;
    const db = b[t] - mb;
    saa += da * da;
    sbb += db * db;
    sab += da * db;
  }
  return [saa, sbb, sab];
}

/** Internal state of a run, before the panel is built (the rawlog generator transforms it). */
interface Run {
  config: VarDagConfig;
  truth: VarDagTruth;
  names: string[];
  roles: NodeRole[];
  /** Latent series per unit and node, including burn-in: `x[u][i]` of length burnIn + steps. */
  x: Float64Array[][];
  context?: { values: Float32Array; names: string[] };
  /** A generator's additions to the run, when it has some. */
  additions?: RunAdditions;
}

/**
 * What a generator built on the VAR-DAG run adds to it (the bypass-prone benchmark's routes,
 * lib/data/bypass-prone.ts): every entry is optional and a run without additions is the plain
 * VAR-DAG run, draw for draw. Series cover the burn-in (length burnIn + steps).
 */
export interface RunAdditions {
  /** Per unit: a campaign calendar the unit's channels follow (see `SharedCalendar`). */
  calendar?: SharedCalendar[];
  /** Per unit and channel: a positive multiplier of the drawn spend at each step (before adstock and saturation). */
  spendMultiplier?: Float64Array[][];
  /**
   * Per unit and non-root node (index i - channels): an additive term extra_i(t) of the node's
   * equation, or undefined. It must not depend on the nodes; it enters with the noise (so the
   * calibration counts it with the noise, as a part of the node's variance its parents do not explain).
   */
  extra?: (Float64Array | undefined)[][];
  /** Recorded beside the run's draws in `panel.provenance.params.drawn` (JSON-serialisable). */
  drawn?: Record<string, unknown>;
}

/** Draws a generator's additions once the units' contexts `ctx[u]` are drawn (before any series). */
export type RunExtension = (ctx: number[][]) => RunAdditions;

/** Parameters drawn once per run from the parameter stream (before any series). */
interface RunParams {
  /** a_i per node (0 for channels). */
  ar: number[];
  channels: ChannelParams[];
  /** Raw (uncalibrated) lag weights per graph: `raw[g][i][j]` is `number[L]`, or undefined without the edge j -> i. */
  raw: (number[] | undefined)[][][];
}

/**
 * Draws the parameters of a run, in this order: the own autoregression of every node, each
 * channel's adstock, Hill exponent, half-point and context effects, then each graph's raw lag
 * weights (sign, magnitude, lag decay per edge, receivers outer, senders inner).
 */
function drawParameters(c: VarDagConfig, names: string[], graphs: Graph[], pRng: Rng): RunParams {
  const C = c.channels;
  const N = names.length;
  const L = c.lags;
  const ar = names.map((_, i) => (i < C ? 0 : i === N - 1 ? pRng.range(c.arTarget[0], c.arTarget[1]) : pRng.range(c.arIntermediate[0], c.arIntermediate[1])));
  const m = c.media;
  const duty = m.meanOn / (m.meanOn + m.meanOff);
  const channels: ChannelParams[] = Array.from({ length: C }, (_, j) => {
    const adstock = pRng.range(c.saturation.adstockMin, c.saturation.adstockMax);
    const slope = pRng.range(c.saturation.slopeMin, c.saturation.slopeMax);
    const halfPoint = (pRng.range(c.saturation.halfMin, c.saturation.halfMax) * m.levelMedian * duty) / (1 - adstock);
    const contextGamma = Array.from({ length: c.contextDim }, () => pRng.range(-c.saturation.contextEffect, c.saturation.contextEffect));
    return { name: names[j], adstock, slope, halfPoint, contextGamma };
  });
  const raw: RunParams["raw"] = graphs.map((g) =>
    Array.from({ length: N }, (_, i) =>
      Array.from({ length: N }, (_, j) => {
        if (!g[j][i]) return undefined;
        const sign = pRng.bernoulli(c.negativeEdgeProb) ? -1 : 1;
        const mag = pRng.range(c.weightMin, c.weightMax);
        const decay = pRng.range(c.lagDecayMin, c.lagDecayMax);
        const prof = Array.from({ length: L }, (_, s) => decay ** s);
        const norm = Math.sqrt(prof.reduce((a, b) => a + b * b, 0));
        return prof.map((p) => (sign * mag * p) / norm);
      }),
    ),
  );
  return { ar, channels, raw };
}

/** Each unit's context `c_r ~ U(0, 1)^k` (float64 draws), and the panel's float32 copy when k > 0. */
function drawContext(c: VarDagConfig, cRng: Rng): { ctx: number[][]; context: Run["context"] } {
  let context: Run["context"];
  const ctx: number[][] = Array.from({ length: c.units }, () => Array.from({ length: c.contextDim }, () => cRng.uniform()));
  if (c.contextDim > 0) {
    context = { values: Float32Array.from(ctx.flat()), names: Array.from({ length: c.contextDim }, (_, k) => `c${k}`) };
  }
  return { ctx, context };
}

/** The series of a run per unit and node, burn-in included (`[u][i]`, length burnIn + steps). */
interface RunSeries {
  /** The node's value: spend for channels; zeros for the other nodes until they are calibrated. */
  x: Float64Array[][];
  /** What the node sends to its children: saturated adstock (or spend) for channels, `x` itself otherwise. */
  f: Float64Array[][];
  /** Noise e_i of the non-root nodes (`e[u][i - channels]`), plus their additive extra terms when a generator adds some. */
  e: Float64Array[][];
}

/**
 * Draws every unit's media spend and noise from its own stream (forked from `uRng` unit by unit:
 * each channel's spend, then each non-root node's noise) and applies the channel transforms; a
 * generator's additions (calendar, spend multipliers, extra terms) are applied on the way.
 */
function simulateSenders(c: VarDagConfig, channels: ChannelParams[], ctx: number[][], uRng: Rng, add: RunAdditions = {}): RunSeries {
  const C = c.channels;
  const N = C + c.intermediates + 1;
  const Ttot = c.burnIn + c.steps;
  const m = c.media;
  const x: Float64Array[][] = [];
  const f: Float64Array[][] = [];
  const e: Float64Array[][] = [];
  const tScale = c.noise === "student-t" ? Math.sqrt((c.noiseDf - 2) / c.noiseDf) : 1;
  for (let u = 0; u < c.units; u++) {
    const r = uRng.fork();
    const xs: Float64Array[] = [];
    const fs: Float64Array[] = [];
    const es: Float64Array[] = [];
    for (let j = 0; j < C; j++) {
      const spend = mediaSeries(m, Ttot, r, add.calendar?.[u]);
      const mult = add.spendMultiplier?.[u][j];
      if (mult) for (let t = 0; t < Ttot; t++) spend[t] *= mult[t];
      xs.push(spend);
      if (c.linear) fs.push(spend);
      else {
        const p = channels[j];
        const kappa = contextHalfPoint(p, ctx[u]);
        const out = geometricAdstock(spend, p.adstock);
        for (let t = 0; t < Ttot; t++) out[t] = hillSaturation(out[t], kappa, p.slope);
        fs.push(out);
      }
    }
    for (let i = C; i < N; i++) {
      const noise = new Float64Array(Ttot);
      for (let t = 0; t < Ttot; t++) noise[t] = c.noiseSd * (c.noise === "student-t" ? tScale * r.studentT(c.noiseDf) : r.normal());
      const extra = add.extra?.[u][i - C];
      if (extra) for (let t = 0; t < Ttot; t++) noise[t] += extra[t];
      es.push(noise);
      xs.push(new Float64Array(Ttot));
      fs.push(xs[i]); // intermediates (and the target) send their own value: f = identity
    }
    x.push(xs);
    f.push(fs);
    e.push(es);
  }
  return { x, f, e };
}

/** What the calibration of the non-root nodes reads and writes. */
interface CalibrationState {
  c: VarDagConfig;
  names: string[];
  graphs: Graph[];
  graphOfUnit: number[];
  params: RunParams;
  series: RunSeries;
  /** Calibrated scale per graph and node, filled node by node (1 until then). */
  scale: number[][];
}

/** Node i's terms per unit before calibration: x_i = scale * xP + xE, with P the one-step parent term. */
interface ParentTerms {
  /** The parent term filtered by the own autoregression, (1 - a B)^-1 P. */
  xP: Float64Array[];
  /** The noise filtered by the own autoregression, (1 - a B)^-1 e. */
  xE: Float64Array[];
  /** The one-step parent term P (unit scale). */
  Pu: Float64Array[];
}

/** Node i's parent and noise terms in every unit, from the (final) series of its parents. */
function parentTerms(s: CalibrationState, i: number): ParentTerms {
  const { c, graphOfUnit } = s;
  const C = c.channels;
  const N = C + c.intermediates + 1;
  const L = c.lags;
  const Ttot = c.burnIn + c.steps;
  const a = s.params.ar[i];
  const xP: Float64Array[] = [];
  const xE: Float64Array[] = [];
  const Pu: Float64Array[] = [];
  for (let u = 0; u < c.units; u++) {
    const w = s.params.raw[graphOfUnit[u]][i];
    const P = new Float64Array(Ttot);
    for (let j = 0; j < N; j++) {
      const wj = w[j];
      if (!wj) continue;
      const fj = s.series.f[u][j];
      for (let t = 1; t < Ttot; t++) {
        let sum = 0;
        for (let l = 1; l <= L && l <= t; l++) sum += wj[l - 1] * fj[t - l];
        P[t] += sum;
      }
    }
    const p = new Float64Array(Ttot);
    const q = new Float64Array(Ttot);
    const eu = s.series.e[u][i - C];
    for (let t = 0; t < Ttot; t++) {
      p[t] = P[t] + (t > 0 ? a * p[t - 1] : 0);
      q[t] = eu[t] + (t > 0 ? a * q[t - 1] : 0);
    }
    xP.push(p);
    xE.push(q);
    Pu.push(P);
  }
  return { xP, xE, Pu };
}

/**
 * Solves node i's scale per graph so that its parents explain `share` of its within-unit
 * variance pooled over the graph's units (after burn-in): the positive root of
 * `c^2 VP (1 - s) - 2 s CV c - s VE = 0`; 0 when the share is 0.
 */
function solveScales(s: CalibrationState, i: number, terms: ParentTerms, share: number): void {
  const { c, graphOfUnit, scale } = s;
  const from = c.burnIn;
  const Ttot = c.burnIn + c.steps;
  for (let g = 0; g < s.graphs.length; g++) {
    let VP = 0;
    let VE = 0;
    let CV = 0;
    for (let u = 0; u < c.units; u++) {
      if (graphOfUnit[u] !== g) continue;
      const [pp, ee, pe] = centredSums(terms.xP[u], terms.xE[u], from, Ttot);
      VP += pp;
      VE += ee;
      CV += pe;
    }
    if (VP > 0 && share > 0) {
      const A2 = VP * (1 - share);
      const B = -2 * share * CV;
      const C0 = -share * VE;
      scale[g][i] = (-B + Math.sqrt(B * B - 4 * A2 * C0)) / (2 * A2);
    } else if (VP > 0) scale[g][i] = 0;
  }
}

/** Writes node i's final series into `series.x` with its calibrated scales and reports the achieved shares. */
function writeCalibratedNode(s: CalibrationState, i: number, terms: ParentTerms, share: number): ShareReport {
  const { c, graphs, graphOfUnit, scale } = s;
  const C = c.channels;
  const from = c.burnIn;
  const Ttot = c.burnIn + c.steps;
  let num = 0;
  let den = 0;
  let innNum = 0;
  let innDen = 0;
  const gNum = graphs.map(() => 0);
  const gDen = graphs.map(() => 0);
  const unitShares: number[] = [];
  for (let u = 0; u < c.units; u++) {
    const g = graphOfUnit[u];
    const sc = scale[g][i];
    const xi = s.series.x[u][i];
    const part = new Float64Array(Ttot);
    const inn = new Float64Array(Ttot);
    const innP = new Float64Array(Ttot);
    for (let t = 0; t < Ttot; t++) {
      part[t] = sc * terms.xP[u][t];
      xi[t] = part[t] + terms.xE[u][t];
      innP[t] = sc * terms.Pu[u][t];
      inn[t] = innP[t] + s.series.e[u][i - C][t];
    }
    const [pp, xx] = centredSums(part, xi, from, Ttot);
    const [ip, ii] = centredSums(innP, inn, from, Ttot);
    num += pp;
    den += xx;
    innNum += ip;
    innDen += ii;
    gNum[g] += pp;
    gDen[g] += xx;
    unitShares.push(xx > 0 ? pp / xx : NaN);
  }
  const sorted = unitShares.filter(Number.isFinite).sort((p, q) => p - q);
  return {
    node: s.names[i],
    requested: share,
    achieved: den > 0 ? num / den : NaN,
    byGraph: gNum.map((n, g) => (gDen[g] > 0 && graphs[g].some((row) => row[i]) ? n / gDen[g] : NaN)),
    unitMin: sorted.length ? sorted[0] : NaN,
    unitMedian: median(sorted),
    unitMax: sorted.length ? sorted[sorted.length - 1] : NaN,
    innovationShare: innDen > 0 ? innNum / innDen : NaN,
  };
}

/** Calibrates the non-root nodes in topological order (their index order), each to its parent share. */
function calibrate(s: CalibrationState): ShareReport[] {
  const { c } = s;
  const C = c.channels;
  const N = C + c.intermediates + 1;
  const shares: ShareReport[] = [];
  for (let i = C; i < N; i++) {
    const terms = parentTerms(s, i);
    const share = i === N - 1 ? c.parentShareTarget : c.parentShareIntermediate;
    solveScales(s, i, terms, share);
    shares.push(writeCalibratedNode(s, i, terms, share));
  }
  return shares;
}

/** The calibrated lag weights of every edge, graph by graph (receivers outer, senders inner). */
function calibratedEdges(s: CalibrationState): EdgeWeights[] {
  const { names } = s;
  const N = names.length;
  const edges: EdgeWeights[] = [];
  s.graphs.forEach((g, gi) => {
    for (let i = 0; i < N; i++)
      for (let j = 0; j < N; j++) {
        const w = s.params.raw[gi][i][j];
        if (w) edges.push({ graph: gi, source: names[j], target: names[i], weights: w.map((v) => v * s.scale[gi][i]) });
      }
  });
  return edges;
}

/** Spectral radius of the companion matrix of the non-root VAR (own AR and calibrated lags), per graph. */
function companionRadii(s: CalibrationState): number[] {
  const { c, scale } = s;
  const C = c.channels;
  const N = C + c.intermediates + 1;
  const L = c.lags;
  const { ar, raw } = s.params;
  const M = N - C;
  return s.graphs.map((_, gi) => {
    const dim = M * L;
    const A = Array.from({ length: dim }, () => new Array<number>(dim).fill(0));
    for (let ii = 0; ii < M; ii++) {
      const i = C + ii;
      A[ii][ii] += ar[i];
      for (let jj = 0; jj < M; jj++) {
        const w = raw[gi][i][C + jj];
        if (!w) continue;
        for (let l = 0; l < L; l++) A[ii][l * M + jj] += w[l] * scale[gi][i];
      }
    }
    for (let l = 1; l < L; l++) for (let ii = 0; ii < M; ii++) A[l * M + ii][(l - 1) * M + ii] = 1;
    return spectralRadius(A);
  });
}

/** Throws unless the non-root VAR is stable enough and every series stayed finite and bounded. */
function checkStable(c: VarDagConfig, spectral: number[], names: string[], x: Float64Array[][]): void {
  const worst = Math.max(...spectral);
  if (!(worst < c.maxSpectralRadius)) {
    throw new Error(
      `simulate: the non-root VAR is not stable enough (companion spectral radius ${worst.toFixed(4)} >= maxSpectralRadius ${c.maxSpectralRadius}); ` +
        "lower the autoregression ranges",
    );
  }
  const bound = 1e6 * (c.noiseSd + c.media.levelMedian * c.media.burstMax);
  for (let u = 0; u < c.units; u++)
    for (let i = 0; i < names.length; i++)
      for (const v of x[u][i]) {
        if (!Number.isFinite(v) || Math.abs(v) > bound) throw new Error(`simulate: node ${names[i]} of unit ${u} reached ${v}: the process exploded`);
      }
}

/**
 * The VAR-DAG simulation proper (see {@link generateVarDag}). Four streams are forked from the seed,
 * in this order: graphs and the assignment of units, parameters, context, units' series. A
 * generator's `extend` draws its additions (from its own streams) once the contexts are drawn.
 */
function run(c: VarDagConfig, extend?: RunExtension): Run {
  checkConfig(c);
  const N = c.channels + c.intermediates + 1;
  const { names, roles } = nodeLayout(c.channels, c.intermediates);
  const root = new Rng(c.seed);
  const gRng = root.fork();
  const pRng = root.fork();
  const cRng = root.fork();
  const uRng = root.fork();

  // Graphs and the assignment of units (equal shares, shuffled).
  const graphs = sampleGraphs(c, gRng);
  const graphOfUnit = gRng.shuffle(Array.from({ length: c.units }, (_, u) => u % c.graphs));
  const params = drawParameters(c, names, graphs, pRng);
  const { ctx, context } = drawContext(c, cRng);
  const additions = extend?.(ctx);
  const series = simulateSenders(c, params.channels, ctx, uRng, additions);

  const state: CalibrationState = { c, names, graphs, graphOfUnit, params, series, scale: graphs.map(() => new Array<number>(N).fill(1)) };
  const shares = calibrate(state);
  const edges = calibratedEdges(state);
  const spectral = companionRadii(state);
  checkStable(c, spectral, names, series.x);
  const truth: VarDagTruth = {
    graphs,
    graphOfUnit,
    ar: params.ar,
    edges,
    channels: params.channels,
    scale: state.scale,
    shares,
    spectralRadius: spectral,
    realisedDensity: graphs.map((g) => edgeCount(g) / (N * (N - 1))),
  };
  return { config: c, truth, names, roles, x: series.x, context, additions };
}

/**
 * The panel of a run: values `[units, steps, nodes]` after burn-in, with truth and provenance:
 * `params` = the configuration, `extra`, the draws (`drawn`: the run's, then the additions') and
 * the graph-worth record (`graphWorth`, lib/data/graph-worth.ts, on the panel as built; null when
 * the panel is too short for it).
 */
function toPanel(r: Run, generator: string, extra: Record<string, unknown> = {}, observe?: (u: number, i: number, t: number, v: number) => number): Panel {
  const c = r.config;
  const N = r.names.length;
  const T = c.steps;
  const values = new Float32Array(c.units * T * N);
  for (let u = 0; u < c.units; u++) {
    for (let i = 0; i < N; i++) {
      const s = r.x[u][i];
      for (let t = 0; t < T; t++) {
        const v = s[c.burnIn + t];
        values[(u * T + t) * N + i] = observe ? observe(u, i, t, v) : v;
      }
    }
  }
  const panel: Panel = {
    values,
    units: c.units,
    steps: T,
    nodes: N,
    nodeNames: r.names,
    roles: r.roles,
    unitIds: Array.from({ length: c.units }, (_, u) => `u${String(u).padStart(String(c.units - 1).length, "0")}`),
    truth: { graphs: r.truth.graphs, graphOfUnit: r.truth.graphOfUnit },
    provenance: { generator, params: { config: c, ...extra, drawn: r.additions?.drawn ? { ...r.truth, ...r.additions.drawn } : r.truth }, seed: c.seed },
  };
  if (r.context) panel.context = r.context;
  validatePanel(panel, { requireDag: true, nonNegativeChannels: true, targetIsSink: true });
  panel.provenance.params.graphWorth = graphWorthWindows(T) ? graphWorth(panel) : null;
  return panel;
}

/**
 * The VAR-DAG run, with a generator's additions when given ({@link RunAdditions}, drawn by
 * `extend`), and its panel with provenance `generator`: the shared path of `generateVarDag`,
 * `generateSparseTarget` and the generators built on the VAR-DAG outside this module (the
 * bypass-prone benchmark). `params(truth)` adds to `panel.provenance.params` (e.g. the achieved
 * parent shares); the additions' `drawn` is recorded beside the run's draws.
 */
export function simulatePanel(
  config: VarDagConfig,
  generator: string,
  options: { extend?: RunExtension; params?: (truth: VarDagTruth) => Record<string, unknown> } = {},
): { panel: Panel; truth: VarDagTruth; additions?: RunAdditions } {
  const r = run(config, options.extend);
  return { panel: toPanel(r, generator, options.params?.(r.truth)), truth: r.truth, additions: r.additions };
}

// ---------------------------------------------------------------------------------------------
// Public generators
// ---------------------------------------------------------------------------------------------

/**
 * VAR-DAG panel (CausalMMM-style, multi-graph).
 *
 * Nodes are ordered channels (media, the roots), intermediates, target (last). K DAGs are drawn
 * over the allowed pairs j -> i with j < i and i not a channel (so channels are roots and no
 * edge leaves the target); each allowed pair is an edge with probability `density` (rho, a
 * share of the *allowed* pairs; the realised share of all N(N-1) pairs is recorded). Every
 * intermediate and the target get at least one parent; the K graphs are distinct when possible.
 * Units are assigned to graphs in equal shares, at random. Each unit r has a context
 * `c_r ~ U(0, 1)^k`. Then, for every non-root node i of a unit with graph G:
 *
 *     x_i(t) = sum_{j in pa_G(i)} sum_{s=1..L} W[i,j,s] f_j(x_j(t-s)) + a_i x_i(t-1) + e_i(t)
 *
 * - channels (roots) are non-negative spend: an on/off flight process (two-state Markov chain),
 *   a log-normal level per unit and channel, multiplicative noise, bursts and random zeros;
 * - `f_j` of a channel is geometric adstock `A(t) = x(t) + lambda_j A(t-1)` followed by Hill
 *   saturation `A^s / (A^s + kappa^s)`, whose half-point depends on the unit's context:
 *   `kappa_{r,j} = kappa_j * exp(sum_k gamma_{j,k} (c_{r,k} - 0.5))`; `f_j` of an intermediate is
 *   the identity; `linear: true` makes every `f_j` the identity (raw spend enters linearly);
 *   the generator computes `f_j` with the exported `geometricAdstock`, `contextHalfPoint` and
 *   `hillSaturation` (`saturationCurve` evaluates the same curve for plots);
 * - `e_i` is Gaussian (or Student-t scaled to the same SD) with SD `noiseSd`;
 * - `W[i,j,s] = scale_{G,i} * m_{ij} * rho_{ij}^(s-1)`: a random magnitude, a geometric lag
 *   profile and one scale per graph and receiver, **calibrated** so that the parents explain a
 *   set share of the receiver's variance (`parentShare`). Since x_i = a_i x_i(t-1) + P_i + e_i is
 *   linear in the parent term P_i, x_i = scale * xP_i + xE_i with xP = (1 - a B)^-1 P and
 *   xE = (1 - a B)^-1 e; the share Var(scale * xP) / Var(x) (within-unit variances, pooled over
 *   the units of the graph, after burn-in) is a quadratic in `scale`, solved exactly node by node
 *   in topological order. The achieved share is recorded (per graph and per unit).
 *
 * Stability: among the non-root nodes the system is a linear VAR (channels are exogenous and
 * bounded after saturation); its companion matrix is checked (spectral radius by the Gelfand
 * formula) against `maxSpectralRadius` and the generator refuses (throws) above it; with a DAG the
 * radius is max |a_i| < 1. The series are also checked to be finite and bounded. `burnIn` steps
 * are simulated first and discarded.
 */
export function generateVarDag(input: VarDagInput = {}): SimulationResult {
  const config = mergeVarDagConfig(VAR_DAG_DEFAULTS, input);
  const { panel, truth } = simulatePanel(config, "var-dag");
  return { panel, config, truth };
}

/** Sparse-target benchmark configuration: a VAR-DAG configuration plus the target's parent share (`targetShare` sets `parentShareTarget`). */
export interface SparseTargetConfig extends VarDagConfig {
  /** Share of the target's variance due to its 1-2 parents (calibrated and recorded). */
  targetShare: number;
}

/** Paper scale: R = 100, d = 8, T = 200. */
export const SPARSE_TARGET_DEFAULTS: SparseTargetConfig = {
  ...VAR_DAG_DEFAULTS,
  targetParents: { min: 1, max: 2 },
  arTarget: [0.85, 0.95],
  targetShare: 0.25,
  parentShareTarget: 0.25,
};

export type SparseTargetInput = VarDagInput & { targetShare?: number };

/**
 * The sparse-target benchmark: the target has 1 or 2 parents, strong own autoregression, and its
 * parents explain `targetShare` of its variance (calibrated; achieved share in
 * `truth.shares` and `panel.provenance.params.achievedTargetShare`).
 *
 * It is the VAR-DAG ({@link generateVarDag}) with the target's parent set replaced by 1 or 2
 * parents (uniform among all other nodes), a strong own autoregression (a_target in
 * [0.85, 0.95]) and `targetShare` (default 0.25) of its variance explained by its parents, so its
 * own past forecasts it well but the graph still matters. The recorded `innovationShare` is the
 * share of the target's one-step innovation (P + e) that is due to the parents.
 */
export function generateSparseTarget(input: SparseTargetInput = {}): SimulationResult & { config: SparseTargetConfig; achievedTargetShare: number } {
  const config = mergeSparseTargetConfig(SPARSE_TARGET_DEFAULTS, input, "generateSparseTarget");
  const { panel, truth } = simulatePanel(config, "sparse-target", { params: targetShareParams });
  return { panel, config, truth, achievedTargetShare: truth.shares[truth.shares.length - 1].achieved };
}

/**
 * A sparse-target configuration: `input` merged over `base` (see {@link mergeVarDagConfig}), the
 * target's parent share set by `targetShare` (`parentShareTarget` must agree when given; `what`
 * starts the error message).
 */
export function mergeSparseTargetConfig(base: SparseTargetConfig, input: SparseTargetInput, what: string): SparseTargetConfig {
  const targetShare = input.targetShare ?? base.targetShare;
  if (input.parentShareTarget !== undefined && input.parentShareTarget !== targetShare) {
    throw new Error(
      `${what}: set the target's parent share with targetShare (got parentShareTarget ${input.parentShareTarget} and targetShare ${targetShare})`,
    );
  }
  const merged = mergeVarDagConfig(base, { ...input, parentShareTarget: targetShare });
  return { ...merged, targetShare };
}

/** The target's achieved parent share and innovation share of a run, as the sparse-target panels record them in `provenance.params`. */
export function targetShareParams(truth: VarDagTruth): { achievedTargetShare: number; targetInnovationShare: number } {
  const tShare = truth.shares[truth.shares.length - 1];
  return { achievedTargetShare: tShare.achieved, targetInnovationShare: tShare.innovationShare };
}

/** The R/d/T swap grid: a base setting and one-factor-at-a-time swaps. */
export interface SwapGridConfig {
  base: { R: number; d: number; T: number };
  R: number[];
  d: number[];
  T: number[];
  /** Which generator the settings use. */
  generator: "var-dag" | "sparse-target";
  /** Any other VAR-DAG / sparse-target settings shared by every cell (seed included). */
  overrides: SparseTargetInput;
}

export const SWAP_GRID_DEFAULTS: SwapGridConfig = {
  base: { R: 100, d: 8, T: 100 },
  R: [20, 100, 300],
  d: [5, 8, 12],
  T: [50, 100, 200],
  generator: "var-dag",
  overrides: {},
};

/** One cell of the grid. */
export interface SwapSetting {
  /** "base", "R=20", "d=12", "T=50", ... */
  name: string;
  /** The factor swapped away from the base ("base" for the base itself). */
  factor: "base" | "R" | "d" | "T";
  value: number;
  R: number;
  d: number;
  T: number;
  generator: SwapGridConfig["generator"];
  /** The full generator input of this cell. */
  input: SparseTargetInput;
}

/** The settings of the grid: the base, then each factor's other values (base values are not repeated). */
export function swapGrid(config: Partial<SwapGridConfig> = {}): SwapSetting[] {
  const c: SwapGridConfig = { ...SWAP_GRID_DEFAULTS, ...config };
  const make = (factor: SwapSetting["factor"], R: number, d: number, T: number): SwapSetting => {
    const value = factor === "R" ? R : factor === "d" ? d : factor === "T" ? T : 0;
    return {
      name: factor === "base" ? "base" : `${factor}=${value}`,
      factor,
      value,
      R,
      d,
      T,
      generator: c.generator,
      input: { ...c.overrides, units: R, steps: T, ...rolesForNodes(d) },
    };
  };
  const { R, d, T } = c.base;
  const out = [make("base", R, d, T)];
  for (const r of c.R) if (r !== R) out.push(make("R", r, d, T));
  for (const n of c.d) if (n !== d) out.push(make("d", R, n, T));
  for (const t of c.T) if (t !== T) out.push(make("T", R, d, t));
  return out;
}

/** Generates one cell of the swap grid (provenance records the setting). */
export function generateSwap(setting: SwapSetting): SimulationResult {
  const res = setting.generator === "sparse-target" ? generateSparseTarget(setting.input) : generateVarDag(setting.input);
  const swap = { name: setting.name, factor: setting.factor, R: setting.R, d: setting.d, T: setting.T };
  res.panel.provenance = { ...res.panel.provenance, params: { ...res.panel.provenance.params, swap } };
  return res;
}

/** Rawlog stress configuration: a VAR-DAG configuration plus the raw observation model. */
export interface RawlogConfig extends VarDagConfig {
  /** Channel currency scales: 10^x with x stratified over [min, max] (one stratum per channel): orders of magnitude apart. */
  currencyLog10: [number, number];
  /** KPI (intermediate, target) median level 10^U(min, max) per node. */
  kpiLog10: [number, number];
  /** SD of log(KPI) around its level: raw KPI = level * exp(kpiLogSd * standardised latent). */
  kpiLogSd: number;
  /** Extra probability of a zero spend (zero inflation) on top of off-flights and dark days. */
  zeroInflation: number;
  /** Probability that an observed cell is an outlier (multiplied by U(outlierMin, outlierMax)). */
  outlierProb: number;
  outlierMin: number;
  outlierMax: number;
}

export const RAWLOG_DEFAULTS: RawlogConfig = {
  ...VAR_DAG_DEFAULTS,
  graphs: 4,
  noise: "student-t",
  noiseDf: 3,
  currencyLog10: [1, 5],
  kpiLog10: [2, 6],
  kpiLogSd: 0.5,
  zeroInflation: 0.3,
  outlierProb: 0.01,
  outlierMin: 5,
  outlierMax: 20,
};

export type RawlogInput = VarDagInput &
  Partial<Pick<RawlogConfig, "currencyLog10" | "kpiLog10" | "kpiLogSd" | "zeroInflation" | "outlierProb" | "outlierMin" | "outlierMax">>;

/**
 * Rawlog stress: multi-graph panels as ad platforms export them. A latent VAR-DAG with Student-t
 * noise (heavy tails) is observed in raw form: channel j is spend in currency units,
 * `spend * 10^x_j` with x_j stratified over `currencyLog10` (scales orders of magnitude apart), zero-inflated (each step
 * zero with an extra probability); intermediates and the target are positive raw KPIs whose
 * logarithm follows the latent series: `level_i * exp(kpiLogSd * (x_i - mean_i) / sd_i)` (mean and SD
 * of the latent node over the whole panel, a fixed affine map, so the true graph is unchanged).
 * Outliers multiply an observed cell by U(outlierMin, outlierMax) with probability `outlierProb`
 * (measurement outliers: the dynamics do not see them). Nothing is standardised for the model.
 * The graph-worth record (`params.graphWorth`) is that of the observed panel.
 */
export function generateRawlog(input: RawlogInput = {}): SimulationResult & { config: RawlogConfig; observation: RawlogObservation } {
  const base = mergeVarDagConfig(RAWLOG_DEFAULTS, input);
  const pick = <K extends keyof RawlogConfig>(k: K): RawlogConfig[K] => ((input as Partial<RawlogConfig>)[k] ?? RAWLOG_DEFAULTS[k]) as RawlogConfig[K];
  const config: RawlogConfig = {
    ...base,
    currencyLog10: pick("currencyLog10"),
    kpiLog10: pick("kpiLog10"),
    kpiLogSd: pick("kpiLogSd"),
    zeroInflation: pick("zeroInflation"),
    outlierProb: pick("outlierProb"),
    outlierMin: pick("outlierMin"),
    outlierMax: pick("outlierMax"),
  };
  const sharesOk = config.zeroInflation >= 0 && config.zeroInflation < 1 && config.outlierProb >= 0 && config.outlierProb < 1;
  if (!(sharesOk && config.outlierMin >= 1 && config.outlierMax >= config.outlierMin && config.kpiLogSd > 0)) {
    throw new Error(`generateRawlog: observation settings out of range: ${JSON.stringify({ ...config, media: undefined, saturation: undefined })}`);
  }
  // Zero inflation enters the dynamics (a zero is spend that did not happen).
  const latentConfig: VarDagConfig = { ...config, media: { ...config.media, zeroProb: 1 - (1 - config.media.zeroProb) * (1 - config.zeroInflation) } };
  const r = run(latentConfig);
  const C = config.channels;
  const N = r.names.length;
  const obsRng = new Rng((config.seed ^ 0x5bd1e995) >>> 0); // an independent stream for the observation model
  // Channel scales are stratified over the log10 range (one stratum per channel, shuffled), so
  // that they really are orders of magnitude apart; KPI levels are uniform in their log10 range.
  const [cLo, cHi] = config.currencyLog10;
  const strata = obsRng.shuffle(Array.from({ length: C }, (_, j) => j));
  const scaleOf = r.names.map(
    (_, i) => 10 ** (i < C ? cLo + ((cHi - cLo) * (strata[i] + obsRng.uniform())) / C : obsRng.range(config.kpiLog10[0], config.kpiLog10[1])),
  );
  const mean = new Array<number>(N).fill(0);
  const sd = new Array<number>(N).fill(1);
  for (let i = C; i < N; i++) {
    let s = 0;
    let s2 = 0;
    let n = 0;
    for (let u = 0; u < config.units; u++)
      for (let t = config.burnIn; t < config.burnIn + config.steps; t++) {
        const v = r.x[u][i][t];
        s += v;
        s2 += v * v;
        n++;
      }
    mean[i] = s / n;
    sd[i] = Math.sqrt(Math.max(s2 / n - mean[i] ** 2, 1e-12));
  }
  let outliers = 0;
  const panel = toPanel(r, "rawlog", {}, (_u, i, _t, v) => {
    let raw = i < C ? v * scaleOf[i] : scaleOf[i] * Math.exp((config.kpiLogSd * (v - mean[i])) / sd[i]);
    if (obsRng.bernoulli(config.outlierProb)) {
      raw *= obsRng.range(config.outlierMin, config.outlierMax);
      outliers++;
    }
    return raw;
  });
  const observation: RawlogObservation = { scale: Object.fromEntries(r.names.map((n, i) => [n, scaleOf[i]])), latentMean: mean, latentSd: sd, outliers };
  panel.provenance = { ...panel.provenance, params: { config, observation, drawn: r.truth, graphWorth: panel.provenance.params.graphWorth } };
  validatePanel(panel, { requireDag: true, nonNegativeChannels: true, targetIsSink: true });
  return { panel, config, truth: r.truth, observation };
}

/** The raw observation model drawn by `generateRawlog`. */
export interface RawlogObservation {
  /** Currency scale (channels) or median level (KPIs) per node. */
  scale: Record<string, number>;
  /** Mean and SD of each latent KPI node (0 / 1 for channels). */
  latentMean: number[];
  latentSd: number[];
  /** Number of observed cells turned into outliers. */
  outliers: number;
}
