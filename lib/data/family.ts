/**
 * The evaluation family for graph recovery (STUDY.md, "Data" 8): seeded panel generators written
 * apart from the study's own generator (simulate.ts), with their own equations, parameter
 * ranges and random streams, so that a graph-recovery method is never judged only on the data it
 * was built on. They share nothing with simulate.ts but the `Panel` shape and the `Rng`. The
 * members are {@link EVALUATION_FAMILY}; {@link generateFamily} gives the equations and what
 * every panel records, and the parts of {@link FamilyConfig} say what each switch does.
 */
import type { Graph } from "../graph";
import { emptyGraph } from "../graph";
import { Rng } from "../rng";
import { fitLagRegression, lagGram } from "./graph-worth";
import { type NodeRole, type Panel, targetIndex, validatePanel } from "./panel";

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

export type FamilyKind = "linear" | "media";

/** A closed interval `[lo, hi]`. */
export type FamilyRange = readonly [number, number];

/**
 * How units share graphs (`graph.sharing.mode`): `shared` (one graph for all units), `groups`
 * (`count` distinct graphs, units assigned in equal shares at random) or `per-unit` (every unit
 * its own graph, distinct when possible). `count` is used by `groups` only. Weights belong to a
 * graph; `dynamics.weightJitter` multiplies each unit's edges by `exp(jitter * N(0,1))`.
 */
export interface GraphSharing {
  mode: "shared" | "groups" | "per-unit";
  count: number;
}

/**
 * The graph of a member (both kinds). Nodes are C channels (`chan1..`), M intermediates
 * (`funnel1..`) and one target (`sales`, last). Each graph draws a random topological order: the
 * channels first (shuffled), then the intermediates (shuffled, so that index order is not the
 * causal order), the target last. A pair j -> i is allowed when j comes before i, j is not the
 * target and not an *inert* channel (a channel with no effect, `graph.inertChannels`), and i is
 * not a channel, except that the linear kind may let channels drive later channels
 * (`linear.channelEdges`). Convention: no edge ever enters a channel from an intermediate or the
 * target, none leaves the target. Each allowed pair is an edge with probability `graph.density`;
 * an intermediate or target left without a parent gets one allowed sender at random. Every edge
 * has its own lag set: between `lagsPerEdge` lags drawn without replacement from 1..`maxLag`
 * (maxLag <= 4), one weight per lag with a magnitude log-uniform over `dynamics.weightRange` (a
 * wide range: some edges and lags are weak) and a sign per edge (linear: negative with
 * probability `linear.negativeShare`; media: media edges positive, funnel edges negative with
 * `media.funnelNegativeShare`).
 */
export interface FamilyGraphConfig {
  /** Probability that an allowed pair is an edge. */
  density: number;
  /** Largest lag of an edge, 1..4. */
  maxLag: number;
  /** Number of lags of an edge, an integer drawn uniformly in `[min, max]` (within 1..maxLag). */
  lagsPerEdge: FamilyRange;
  /** Channels with no outgoing edge (spend without effect); at least one channel must not be inert. */
  inertChannels: number;
  sharing: GraphSharing;
}

export interface FamilyNoise {
  dist: "gaussian" | "student-t";
  /** Degrees of freedom of the Student-t (an integer > 2). */
  df: number;
  /** sigma_i, log-uniform in this range per node. */
  sd: FamilyRange;
}

export interface FamilyDynamics {
  /** |w| of each lag weight, log-uniform in this range (before the receiver's scale c_i). */
  weightRange: FamilyRange;
  /** Innovation signal-to-noise ratio of intermediates (and channels with channel parents). */
  snr: FamilyRange;
  /** The target's innovation signal-to-noise ratio. */
  targetSnr: FamilyRange;
  /** Order of each node's own autoregression (1 or 2). */
  ownLags: number;
  /** a_i1 drawn uniformly in this range. */
  ownAr1: FamilyRange;
  /** a_i2 drawn uniformly in this range (ownLags 2). */
  ownAr2: FamilyRange;
  /** Every own AR root is rescaled to at most this modulus (< 1). */
  ownRadiusMax: number;
  noise: FamilyNoise;
  /** SD of the log of each unit's edge multiplier (0: units of a graph share its weights). */
  weightJitter: number;
}

/**
 * Used by the linear kind only: every node (channels too) is a process of the dynamics of
 * {@link generateFamily} and `f_j` is the identity.
 */
export interface FamilyLinear {
  /** Channels may drive later channels (channel -> channel edges). */
  channelEdges: boolean;
  /** Probability that an edge's sign is negative. */
  negativeShare: number;
}

/**
 * Used by the media kind only. Channels are spend, not a VAR node: flights (on and off periods
 * whose lengths are drawn from `media.flightOn` / `media.flightOff`, some channels always on), a
 * log-normal level per unit and channel, multiplicative noise, bursts and zeros. `f_j` of a
 * channel is a normalised geometric adstock `A(t) = (1 - lambda) x(t) + lambda A(t-1)` followed
 * by a Hill curve `A^h / (A^h + K^h)` with one half-point K per channel (so units that spend more
 * sit further up the curve); `f_j` of an intermediate is the identity. Funnel nodes and the
 * target are driven by the saturated media and by each other.
 */
export interface FamilyMedia {
  /** On-flight lengths (steps), an integer drawn uniformly in this range per flight. */
  flightOn: FamilyRange;
  /** Off-period lengths (steps). */
  flightOff: FamilyRange;
  /** Probability that a channel has no off periods. */
  alwaysOnShare: number;
  /** Spend in an off period, as a share of the on level (0: dark). */
  offLevel: number;
  /** SD of the log of each unit's spend level per channel. */
  levelSdLog: number;
  /** SD of the log of the step-to-step spend noise. */
  spendNoiseLog: number;
  /** Probability that an on step is a burst, and the burst's multiplier range. */
  burstProb: number;
  burstFactor: FamilyRange;
  /** Probability that an on step has zero spend. */
  zeroProb: number;
  /** Adstock decay lambda per channel. */
  adstock: FamilyRange;
  /** Hill exponent h per channel. */
  hillSlope: FamilyRange;
  /** Hill half-point K per channel, relative to the median unit's on level (1). */
  halfPoint: FamilyRange;
  /** Probability that a funnel edge (intermediate sender) is negative; media edges are positive. */
  funnelNegativeShare: number;
}

/**
 * Heterogeneous scales (`scales.enabled`): after simulation each node gets a scale
 * `10^U(nodeDecades)`, each unit and node a further `10^U(unitDecades)`; every node but spend is
 * also shifted to a positive level `min + U(offset) * sd` (raw-log-like levels), spend keeps its
 * zeros. Nothing is standardised for the models.
 */
export interface FamilyScales {
  enabled: boolean;
  /** log10 of each node's scale, uniform in this range. */
  nodeDecades: FamilyRange;
  /** log10 of each unit-and-node's extra scale. */
  unitDecades: FamilyRange;
  /** Level of a non-spend series above its minimum, in its SDs, uniform in this range. */
  offset: FamilyRange;
}

/**
 * Confounding (`confounder.strength > 0`): a per-unit AR(1) demand shock d(t) (unit variance,
 * `phi`) that is not a node and not part of the true graph drives the target's innovation
 * (`strength * targetLoad * sigma`), the confounded channels (spend multiplied by
 * `exp(strength * spendLoad * d)`, mean-preserving; a linear channel's innovation gets
 * `strength * sigma * d`) and optionally the intermediates. The confounded channels are the inert
 * ones first, then random others (`confounder.channels`). No draw depends on the strength:
 * strength 0 gives the same graphs, spend, noise and shock, with the shock's effect removed (the
 * receivers' scales c_i are set again on those series).
 */
export interface FamilyConfounder {
  /** 0: no confounder. */
  strength: number;
  /** AR(1) coefficient of the demand shock. */
  phi: number;
  /** How many channels it drives ("all" or a count; inert channels first). */
  channels: number | "all";
  /** Load on the target's innovation, in units of its sigma (times strength). */
  targetLoad: number;
  /** Load on the log of media spend (times strength). */
  spendLoad: number;
  /** Also drive the intermediates' innovations (load strength * sigma). */
  intoIntermediates: boolean;
}

/** The setting of {@link graphForecastGain}. */
export interface GraphForecastOptions {
  /** Lags of both linear forecasters. */
  lags: number;
  /** Rollout length M of MSE@M. */
  horizon: number;
  /** Share of the steps the forecasters are fitted on; the rest is evaluated. */
  trainShare: number;
}

/** Every parameter of a family member. */
export interface FamilyConfig {
  kind: FamilyKind;
  units: number;
  steps: number;
  /** Steps simulated first and discarded. */
  burnIn: number;
  channels: number;
  intermediates: number;
  graph: FamilyGraphConfig;
  dynamics: FamilyDynamics;
  linear: FamilyLinear;
  media: FamilyMedia;
  scales: FamilyScales;
  confounder: FamilyConfounder;
  forecast: GraphForecastOptions;
}

/** The defaults of every member (a member's configuration overrides some fields). */
export const FAMILY_DEFAULTS: FamilyConfig = {
  kind: "linear",
  units: 40,
  steps: 120,
  burnIn: 100,
  channels: 3,
  intermediates: 3,
  graph: { density: 0.35, maxLag: 4, lagsPerEdge: [1, 3], inertChannels: 0, sharing: { mode: "shared", count: 1 } },
  dynamics: {
    weightRange: [0.05, 1],
    snr: [0.5, 2],
    targetSnr: [0.3, 1.5],
    ownLags: 2,
    ownAr1: [0.1, 0.9],
    ownAr2: [-0.25, 0.25],
    ownRadiusMax: 0.95,
    noise: { dist: "gaussian", df: 5, sd: [0.5, 2] },
    weightJitter: 0,
  },
  linear: { channelEdges: true, negativeShare: 0.5 },
  media: {
    flightOn: [4, 12],
    flightOff: [2, 10],
    alwaysOnShare: 0.25,
    offLevel: 0,
    levelSdLog: 0.6,
    spendNoiseLog: 0.3,
    burstProb: 0.05,
    burstFactor: [2, 5],
    zeroProb: 0.04,
    adstock: [0.2, 0.8],
    hillSlope: [0.8, 3],
    halfPoint: [0.3, 1.5],
    funnelNegativeShare: 0.2,
  },
  scales: { enabled: false, nodeDecades: [-1, 4], unitDecades: [-0.5, 0.5], offset: [2, 20] },
  confounder: { strength: 0, phi: 0.9, channels: "all", targetLoad: 1, spendLoad: 0.5, intoIntermediates: false },
  forecast: { lags: 4, horizon: 7, trainShare: 0.7 },
};

/** A partial configuration: any field, nested objects field by field (ranges replaced whole). */
export type FamilyInput = DeepPartial<FamilyConfig>;

type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K];
};

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function mergeDeep<T>(base: T, over: unknown): T {
  if (!isPlainObject(over)) return base;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const b = out[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? mergeDeep(b, v) : v;
  }
  return out as T;
}

/** The full configuration: `input` merged over `base` (default {@link FAMILY_DEFAULTS}), checked. */
export function familyConfig(input: FamilyInput = {}, base: FamilyConfig = FAMILY_DEFAULTS): FamilyConfig {
  const c = mergeDeep(base, input);
  checkConfig(c);
  return c;
}

function checkConfig(c: FamilyConfig): void {
  const bad = (d: string): never => {
    throw new Error(`evaluation family: ${d}`);
  };
  const int = (v: number, lo: number, what: string) => {
    if (!Number.isInteger(v) || v < lo) bad(`${what} must be an integer >= ${lo}, got ${v}`);
  };
  const range = (r: FamilyRange, what: string, lo = -Infinity, hi = Infinity) => {
    if (!Array.isArray(r) || r.length !== 2 || !(r[0] <= r[1]) || !(r[0] >= lo) || !(r[1] <= hi)) {
      bad(`${what} must be a range [lo, hi] with ${lo} <= lo <= hi <= ${hi}, got ${JSON.stringify(r)}`);
    }
  };
  const share = (v: number, what: string) => {
    if (!(v >= 0 && v <= 1)) bad(`${what} must be in [0, 1], got ${v}`);
  };
  if (c.kind !== "linear" && c.kind !== "media") bad(`kind must be "linear" or "media", got ${JSON.stringify(c.kind)}`);
  int(c.units, 1, "units");
  int(c.burnIn, 0, "burnIn");
  int(c.channels, 1, "channels");
  int(c.intermediates, 0, "intermediates");
  const g = c.graph;
  share(g.density, "graph.density");
  int(g.maxLag, 1, "graph.maxLag");
  if (g.maxLag > 4) bad(`graph.maxLag must be at most 4, got ${g.maxLag}`);
  range(g.lagsPerEdge, "graph.lagsPerEdge", 1, g.maxLag);
  if (!Number.isInteger(g.lagsPerEdge[0]) || !Number.isInteger(g.lagsPerEdge[1])) bad("graph.lagsPerEdge must hold integers");
  int(g.inertChannels, 0, "graph.inertChannels");
  if (g.inertChannels >= c.channels) bad(`graph.inertChannels (${g.inertChannels}) must leave at least one of the ${c.channels} channels with an effect`);
  if (!["shared", "groups", "per-unit"].includes(g.sharing.mode)) {
    bad(`graph.sharing.mode must be shared, groups or per-unit, got ${JSON.stringify(g.sharing.mode)}`);
  }
  if (g.sharing.mode === "groups") {
    int(g.sharing.count, 1, "graph.sharing.count");
    if (g.sharing.count > c.units) bad(`graph.sharing.count (${g.sharing.count}) exceeds the ${c.units} units`);
  }
  const d = c.dynamics;
  range(d.weightRange, "dynamics.weightRange", 1e-12);
  range(d.snr, "dynamics.snr", 0);
  range(d.targetSnr, "dynamics.targetSnr", 0);
  if (d.ownLags !== 1 && d.ownLags !== 2) bad(`dynamics.ownLags must be 1 or 2, got ${d.ownLags}`);
  range(d.ownAr1, "dynamics.ownAr1");
  range(d.ownAr2, "dynamics.ownAr2");
  if (!(d.ownRadiusMax >= 0 && d.ownRadiusMax < 1)) bad(`dynamics.ownRadiusMax must be in [0, 1), got ${d.ownRadiusMax}`);
  if (d.noise.dist !== "gaussian" && d.noise.dist !== "student-t") bad(`dynamics.noise.dist must be gaussian or student-t`);
  if (d.noise.dist === "student-t") int(d.noise.df, 3, "dynamics.noise.df");
  range(d.noise.sd, "dynamics.noise.sd", 1e-12);
  if (!(d.weightJitter >= 0)) bad(`dynamics.weightJitter must be >= 0`);
  share(c.linear.negativeShare, "linear.negativeShare");
  const m = c.media;
  range(m.flightOn, "media.flightOn", 1);
  range(m.flightOff, "media.flightOff", 1);
  for (const k of ["alwaysOnShare", "offLevel", "burstProb", "zeroProb", "funnelNegativeShare"] as const) share(m[k], `media.${k}`);
  if (!(m.levelSdLog >= 0 && m.spendNoiseLog >= 0)) bad("media.levelSdLog and media.spendNoiseLog must be >= 0");
  range(m.burstFactor, "media.burstFactor", 1);
  range(m.adstock, "media.adstock", 0, 0.99);
  range(m.hillSlope, "media.hillSlope", 0.1);
  range(m.halfPoint, "media.halfPoint", 1e-6);
  const s = c.scales;
  range(s.nodeDecades, "scales.nodeDecades", -12, 12);
  range(s.unitDecades, "scales.unitDecades", -12, 12);
  range(s.offset, "scales.offset", 0);
  const k = c.confounder;
  if (!(k.strength >= 0)) bad(`confounder.strength must be >= 0, got ${k.strength}`);
  if (!(Math.abs(k.phi) < 1)) bad(`confounder.phi must be in (-1, 1), got ${k.phi}`);
  if (k.channels !== "all") {
    int(k.channels, 0, "confounder.channels");
    if (k.channels > c.channels) bad(`confounder.channels (${k.channels}) exceeds the ${c.channels} channels`);
  }
  if (!(k.targetLoad >= 0 && k.spendLoad >= 0)) bad("confounder loads must be >= 0");
  const f = c.forecast;
  int(f.lags, 1, "forecast.lags");
  int(f.horizon, 1, "forecast.horizon");
  if (!(f.trainShare > 0 && f.trainShare < 1)) bad(`forecast.trainShare must be in (0, 1)`);
  const trainSteps = Math.round(c.steps * f.trainShare);
  int(c.steps, 1, "steps");
  if (trainSteps <= 2 * f.lags || c.steps - trainSteps < f.horizon) {
    bad(
      `steps (${c.steps}) too few for the forecast check: ${trainSteps} training steps (need > ${2 * f.lags}) ` +
        `and ${c.steps - trainSteps} evaluated (need >= ${f.horizon})`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// What a generated panel records
// ---------------------------------------------------------------------------------------------

/** One edge j -> i of one graph: its lags and final weights (c_i * w_ijs), before any unit jitter. */
export interface FamilyEdge {
  graph: number;
  from: string;
  to: string;
  lags: number[];
  weights: number[];
}

/** Per-channel spend and response parameters (media kind). */
export interface FamilyChannel {
  name: string;
  alwaysOn: boolean;
  adstock: number;
  hillSlope: number;
  halfPoint: number;
}

/** Everything a family member drew (also in `panel.provenance.params.drawn`). */
export interface FamilyTruth {
  graphs: Graph[];
  graphOfUnit: number[];
  /** Topological order of each graph (node indices). */
  order: number[][];
  edges: FamilyEdge[];
  /** [a_i1, a_i2] per node (zeros for spend channels). */
  ownAr: number[][];
  /** sigma_i per node. */
  noiseSd: number[];
  /** Drawn innovation SNR per graph and node (0 for nodes without parents). */
  snr: number[][];
  /** c_i per graph and node. */
  receiverScale: number[][];
  /** Companion spectral radius of each graph's VAR, and the largest own-AR root modulus. */
  spectralRadius: number[];
  ownRootMax: number;
  inertChannels: string[];
  /** Nodes the confounder drives (empty at strength 0), with their loads. */
  confounded: { node: string; load: number }[];
  /** Media kind: channel parameters and the unit's on level per channel `[units][channels]`. */
  channels?: FamilyChannel[];
  unitLevel?: number[][];
  /** Unit edge multipliers `[units][edges of the unit's graph, in `edges` order]` when jittered. */
  unitEdgeFactor?: number[][];
  /** Heterogeneous scales: node scale, unit-node scale and offset (`[units][nodes]`). */
  scales?: { node: number[]; unit: number[][]; offset: number[][] };
}

/** A generated member panel and what generated it. */
export interface FamilyResult {
  member: string;
  panel: Panel;
  config: FamilyConfig;
  truth: FamilyTruth;
  /** The confounder's series `[units, steps]` (after burn-in; drawn even at strength 0). */
  latent: Float32Array;
  /** The MSE@7 ratio record, as in the provenance. */
  graphForecast: GraphForecastGain;
}

// ---------------------------------------------------------------------------------------------
// Small numerics
// ---------------------------------------------------------------------------------------------

const uniformIn = (rng: Rng, r: FamilyRange) => rng.range(r[0], r[1]);
const logUniformIn = (rng: Rng, r: FamilyRange) => Math.exp(rng.range(Math.log(r[0]), Math.log(r[1])));
const intIn = (rng: Rng, r: FamilyRange) => r[0] + rng.int(r[1] - r[0] + 1);

/** Largest root modulus of lambda^2 - a1 lambda - a2 (the AR(2) x(t) = a1 x(t-1) + a2 x(t-2)). */
export function ownRootModulus(a1: number, a2: number): number {
  const disc = a1 * a1 + 4 * a2;
  if (disc >= 0) return Math.max(Math.abs((a1 + Math.sqrt(disc)) / 2), Math.abs((a1 - Math.sqrt(disc)) / 2));
  return Math.sqrt(-a2);
}

/**
 * Spectral radius of a square matrix, `lim ||F^n||^(1/n)` (Gelfand) evaluated at n = 2^32 by
 * repeated squaring with the norm divided out at each step.
 */
export function companionSpectralRadius(F: readonly (readonly number[])[]): number {
  const n = F.length;
  if (n === 0) return 0;
  let M = new Float64Array(n * n);
  F.forEach((row, i) => row.forEach((v, j) => (M[i * n + j] = v)));
  let logNorm = 0; // F^(2^k) = exp(logNorm) * M
  const squarings = 32;
  for (let k = 0; k < squarings; k++) {
    let s = 0;
    for (let a = 0; a < n * n; a++) s += M[a] * M[a];
    if (s === 0) return 0;
    const norm = Math.sqrt(s);
    for (let a = 0; a < n * n; a++) M[a] /= norm;
    logNorm = 2 * (logNorm + Math.log(norm));
    const Q = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let r = 0; r < n; r++) {
        const v = M[i * n + r];
        if (v === 0) continue;
        for (let j = 0; j < n; j++) Q[i * n + j] += v * M[r * n + j];
      }
    }
    M = Q;
  }
  let s = 0;
  for (let a = 0; a < n * n; a++) s += M[a] * M[a];
  if (s === 0) return 0;
  return Math.exp((logNorm + 0.5 * Math.log(s)) / 2 ** squarings);
}

/**
 * The companion matrix of `x(t) = sum_s A_s x(t-s)` with `A[s-1][i][j]` the weight of x_j(t-s)
 * in x_i's equation (n nodes, L lags): `[n L] x [n L]`, first block row `A_1 .. A_L`, identity
 * below.
 */
function companion(A: number[][][]): number[][] {
  const L = A.length;
  const n = A[0].length;
  const F = Array.from({ length: n * L }, () => new Array<number>(n * L).fill(0));
  for (let s = 0; s < L; s++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) F[i][s * n + j] = A[s][i][j];
  for (let r = n; r < n * L; r++) F[r][r - n] = 1;
  return F;
}

// ---------------------------------------------------------------------------------------------
// Structure
// ---------------------------------------------------------------------------------------------

interface DrawnEdge {
  from: number;
  to: number;
  lags: number[];
  /** Weight per lag before the receiver's scale. */
  raw: number[];
}

interface DrawnGraph {
  order: number[];
  graph: Graph;
  edges: DrawnEdge[];
  snr: number[];
}

/** The layout: names and roles of C channels, M intermediates, the target. */
function layout(C: number, M: number): { names: string[]; roles: NodeRole[] } {
  const names = [...Array.from({ length: C }, (_, k) => `chan${k + 1}`), ...Array.from({ length: M }, (_, k) => `funnel${k + 1}`), "sales"];
  const roles: NodeRole[] = [...Array<NodeRole>(C).fill("channel"), ...Array<NodeRole>(M).fill("intermediate"), "target"];
  return { names, roles };
}

/** One random DAG with its lag sets, raw weights and receiver SNRs (see {@link FamilyGraphConfig}). */
function drawGraph(c: FamilyConfig, rng: Rng, inert: ReadonlySet<number>): DrawnGraph {
  const C = c.channels;
  const N = C + c.intermediates + 1;
  const tgt = N - 1;
  const channelEdges = c.kind === "linear" && c.linear.channelEdges;
  const order = [...rng.shuffle(Array.from({ length: C }, (_, k) => k)), ...rng.shuffle(Array.from({ length: c.intermediates }, (_, k) => C + k)), tgt];
  const graph = emptyGraph(N);
  for (let p = 0; p < N; p++) {
    const i = order[p];
    const isChannel = i < C;
    if (isChannel && !channelEdges) continue;
    const senders = order.slice(0, p).filter((j) => !inert.has(j) && (!isChannel || j < C));
    let parents = 0;
    for (const j of senders) {
      if (rng.bernoulli(c.graph.density)) {
        graph[j][i] = 1;
        parents++;
      }
    }
    if (!isChannel && parents === 0 && senders.length > 0) graph[senders[rng.int(senders.length)]][i] = 1;
  }
  const edges: DrawnEdge[] = [];
  for (const i of order) {
    for (const j of order) {
      if (!graph[j][i]) continue;
      const k = intIn(rng, c.graph.lagsPerEdge);
      const lags = rng
        .shuffle(Array.from({ length: c.graph.maxLag }, (_, s) => s + 1))
        .slice(0, k)
        .sort((a, b) => a - b);
      const negative = c.kind === "linear" ? c.linear.negativeShare : j < C ? 0 : c.media.funnelNegativeShare;
      const sign = rng.bernoulli(negative) ? -1 : 1;
      edges.push({ from: j, to: i, lags, raw: lags.map(() => sign * logUniformIn(rng, c.dynamics.weightRange)) });
    }
  }
  const snr = Array.from({ length: N }, (_, i) => {
    if (!graph.some((row) => row[i])) return 0;
    return uniformIn(rng, i === tgt ? c.dynamics.targetSnr : c.dynamics.snr);
  });
  return { order, graph, edges, snr };
}

/** The graphs of the panel and each unit's graph index, distinct graphs when possible. */
function drawGraphs(c: FamilyConfig, rng: Rng, inert: ReadonlySet<number>): { graphs: DrawnGraph[]; graphOfUnit: number[] } {
  const R = c.units;
  const mode = c.graph.sharing.mode;
  const G = mode === "shared" ? 1 : mode === "per-unit" ? R : c.graph.sharing.count;
  const graphs: DrawnGraph[] = [];
  const seen = new Set<string>();
  for (let g = 0; g < G; g++) {
    let d = drawGraph(c, rng, inert);
    for (let tries = 0; tries < 30 && seen.has(JSON.stringify(d.graph)); tries++) d = drawGraph(c, rng, inert);
    seen.add(JSON.stringify(d.graph));
    graphs.push(d);
  }
  const graphOfUnit = mode === "per-unit" ? Array.from({ length: R }, (_, u) => u) : rng.shuffle(Array.from({ length: R }, (_, u) => u % G));
  return { graphs, graphOfUnit };
}

/** Own AR coefficients per node, rescaled so that every root is within `ownRadiusMax`. */
function drawOwnAr(c: FamilyConfig, rng: Rng, N: number): number[][] {
  const d = c.dynamics;
  return Array.from({ length: N }, (_, i) => {
    let a1 = uniformIn(rng, d.ownAr1);
    let a2 = d.ownLags === 2 ? uniformIn(rng, d.ownAr2) : 0;
    if (c.kind === "media" && i < c.channels) return [0, 0];
    const r = ownRootModulus(a1, a2);
    if (r > d.ownRadiusMax) {
      const k = d.ownRadiusMax / r;
      a1 *= k;
      a2 *= k * k;
    }
    return [a1, a2];
  });
}

// ---------------------------------------------------------------------------------------------
// Exogenous series: spend, noise, confounder
// ---------------------------------------------------------------------------------------------

function drawChannels(c: FamilyConfig, rng: Rng, names: string[]): { channels: FamilyChannel[]; unitLevel: number[][] } {
  const m = c.media;
  const channels: FamilyChannel[] = [];
  for (let j = 0; j < c.channels; j++) {
    channels.push({
      name: names[j],
      alwaysOn: rng.bernoulli(m.alwaysOnShare),
      adstock: uniformIn(rng, m.adstock),
      hillSlope: uniformIn(rng, m.hillSlope),
      halfPoint: uniformIn(rng, m.halfPoint),
    });
  }
  const unitLevel = Array.from({ length: c.units }, () => Array.from({ length: c.channels }, () => Math.exp(m.levelSdLog * rng.normal())));
  return { channels, unitLevel };
}

/** Spend of one unit and channel over `steps` (flights, level, noise, bursts, zeros), before the confounder. */
function spendSeries(c: FamilyConfig, rng: Rng, ch: FamilyChannel, level: number, steps: number): Float64Array {
  const m = c.media;
  const out = new Float64Array(steps);
  const onMean = (m.flightOn[0] + m.flightOn[1]) / 2;
  const offMean = (m.flightOff[0] + m.flightOff[1]) / 2;
  let on = ch.alwaysOn || rng.bernoulli(onMean / (onMean + offMean));
  // The first period starts part-way through.
  let left = Math.max(1, Math.ceil(rng.uniform() * intIn(rng, on ? m.flightOn : m.flightOff)));
  const sd = m.spendNoiseLog;
  for (let t = 0; t < steps; t++) {
    if (left === 0) {
      on = ch.alwaysOn || !on;
      left = intIn(rng, on ? m.flightOn : m.flightOff);
    }
    left--;
    const noise = Math.exp(sd * rng.normal() - (sd * sd) / 2);
    const burst = rng.bernoulli(m.burstProb) ? uniformIn(rng, m.burstFactor) : 1;
    const zero = rng.bernoulli(m.zeroProb);
    if (on) out[t] = zero ? 0 : level * noise * burst;
    else out[t] = m.offLevel * level * noise;
  }
  return out;
}

/** Normalised geometric adstock, then the Hill curve. */
function saturate(spend: Float64Array, ch: FamilyChannel): Float64Array {
  const out = new Float64Array(spend.length);
  const lambda = ch.adstock;
  const K = Math.pow(ch.halfPoint, ch.hillSlope);
  let A = 0;
  for (let t = 0; t < spend.length; t++) {
    A = (1 - lambda) * spend[t] + lambda * A;
    const p = Math.pow(A, ch.hillSlope);
    out[t] = p / (p + K);
  }
  return out;
}

/** Unit-variance innovations. */
function innovation(rng: Rng, noise: FamilyNoise): number {
  if (noise.dist === "gaussian") return rng.normal();
  return rng.studentT(noise.df) * Math.sqrt((noise.df - 2) / noise.df);
}

// ---------------------------------------------------------------------------------------------
// The generator
// ---------------------------------------------------------------------------------------------

/** The confounded nodes with their loads (see {@link FamilyConfounder}). */
function confoundedNodes(c: FamilyConfig, rng: Rng, inert: readonly number[], noiseSd: number[]): Map<number, number> {
  const C = c.channels;
  const k = c.confounder;
  const others = rng.shuffle(Array.from({ length: C }, (_, j) => j).filter((j) => !inert.includes(j)));
  const count = k.channels === "all" ? C : k.channels;
  const chosen = [...inert, ...others].slice(0, count);
  const out = new Map<number, number>();
  if (k.strength === 0) return out;
  const N = C + c.intermediates + 1;
  for (const j of chosen) out.set(j, c.kind === "media" ? k.strength * k.spendLoad : k.strength * noiseSd[j]);
  if (k.intoIntermediates) for (let i = C; i < N - 1; i++) out.set(i, k.strength * noiseSd[i]);
  if (k.targetLoad > 0) out.set(N - 1, k.strength * k.targetLoad * noiseSd[N - 1]);
  return out;
}

/** Within-unit variance of the series of `units`, pooled, over steps [from, to). */
function pooledVariance(series: Float64Array[], from: number, to: number): number {
  let ss = 0;
  let n = 0;
  for (const s of series) {
    let m = 0;
    for (let t = from; t < to; t++) m += s[t];
    m /= to - from;
    for (let t = from; t < to; t++) ss += (s[t] - m) ** 2;
    n += to - from;
  }
  return n > 0 ? ss / n : 0;
}

/** The structure of a panel: inert channels, own AR, noise SDs, graphs and the confounder's loads. */
interface Structure {
  inert: number[];
  ownAr: number[][];
  noiseSd: number[];
  graphs: DrawnGraph[];
  graphOfUnit: number[];
  /** Confounder load per driven node. */
  loads: Map<number, number>;
}

function drawStructure(c: FamilyConfig, rng: Rng): Structure {
  const C = c.channels;
  const N = C + c.intermediates + 1;
  const inert = rng
    .shuffle(Array.from({ length: C }, (_, j) => j))
    .slice(0, c.graph.inertChannels)
    .sort((a, b) => a - b);
  const ownAr = drawOwnAr(c, rng, N);
  const noiseSd = Array.from({ length: N }, () => logUniformIn(rng, c.dynamics.noise.sd));
  const { graphs, graphOfUnit } = drawGraphs(c, rng, new Set(inert));
  const loads = confoundedNodes(c, rng, inert, noiseSd);
  return { inert, ownAr, noiseSd, graphs, graphOfUnit, loads };
}

/** Everything drawn outside the structure, each from its own stream, over the burn-in too. */
interface Exogenous {
  /** Media kind: channel parameters, unit levels, spend `[u][j]` before the confounder. */
  spend?: { channels: FamilyChannel[]; unitLevel: number[][]; raw: Float64Array[][] };
  /** Unit-variance innovations `[u][t * N + i]`. */
  noise: Float64Array[];
  /** The confounder `[u][t]`. */
  latent: Float64Array[];
  /** Unit edge multipliers `[u][edge of the unit's graph]`. */
  jitter: number[][];
}

function drawExogenous(c: FamilyConfig, st: Structure, streams: { spend: Rng; noise: Rng; latent: Rng; jitter: Rng }, names: string[]): Exogenous {
  const R = c.units;
  const N = names.length;
  const Ttot = c.burnIn + c.steps;
  let spend: Exogenous["spend"];
  if (c.kind === "media") {
    const { channels, unitLevel } = drawChannels(c, streams.spend, names);
    const raw = Array.from({ length: R }, (_, u) => channels.map((ch, j) => spendSeries(c, streams.spend, ch, unitLevel[u][j], Ttot)));
    spend = { channels, unitLevel, raw };
  }
  const noise = Array.from({ length: R }, () => {
    const e = new Float64Array(Ttot * N);
    for (let a = 0; a < e.length; a++) e[a] = innovation(streams.noise, c.dynamics.noise);
    return e;
  });
  const phi = c.confounder.phi;
  const latent = Array.from({ length: R }, () => {
    const d = new Float64Array(Ttot);
    let v = streams.latent.normal();
    for (let t = 0; t < Ttot; t++) {
      if (t > 0) v = phi * v + Math.sqrt(1 - phi * phi) * streams.latent.normal();
      d[t] = v;
    }
    return d;
  });
  const jit = c.dynamics.weightJitter;
  const jitter = st.graphOfUnit.map((g) => st.graphs[g].edges.map(() => (jit > 0 ? Math.exp(jit * streams.jitter.normal()) : 1)));
  return { spend, noise, latent, jitter };
}

/** The simulated series `x[u][i]` (burn-in included) and each graph's receiver scales c_i. */
interface Simulation {
  x: Float64Array[][];
  receiverScale: number[][];
}

/**
 * Simulates every unit node by node in each graph's topological order (a node depends only on
 * its ancestors and its own past): spend channels first (with the confounder), then each
 * receiver's parent term P_i, its scale c_i from the pooled within-unit variance of P_i after
 * burn-in, and its recursion.
 */
function simulate(c: FamilyConfig, st: Structure, ex: Exogenous): Simulation {
  const R = c.units;
  const C = c.channels;
  const N = C + c.intermediates + 1;
  const Ttot = c.burnIn + c.steps;
  const media = c.kind === "media";
  // x[u][i]: the node's series; f[u][i]: what its children read (saturated spend, else x itself).
  const x: Float64Array[][] = Array.from({ length: R }, () => Array.from({ length: N }, () => new Float64Array(Ttot)));
  const f: Float64Array[][] = x.map((row) => [...row]);
  if (ex.spend) {
    for (let u = 0; u < R; u++) {
      for (let j = 0; j < C; j++) {
        const s = x[u][j];
        const gamma = st.loads.get(j) ?? 0;
        for (let t = 0; t < Ttot; t++) s[t] = ex.spend.raw[u][j][t] * Math.exp(gamma * ex.latent[u][t] - (gamma * gamma) / 2);
        f[u][j] = saturate(s, ex.spend.channels[j]);
      }
    }
  }
  const receiverScale = st.graphs.map(() => new Array<number>(N).fill(0));
  st.graphs.forEach((dg, g) => {
    const units = st.graphOfUnit.flatMap((k, u) => (k === g ? [u] : []));
    for (const i of dg.order) {
      if (media && i < C) continue;
      const incoming = dg.edges.map((e, k) => [e, k] as const).filter(([e]) => e.to === i);
      const P = units.map((u) => {
        const p = new Float64Array(Ttot);
        for (const [e, k] of incoming) {
          const src = f[u][e.from];
          e.lags.forEach((s, a) => {
            const w = e.raw[a] * ex.jitter[u][k];
            for (let t = s; t < Ttot; t++) p[t] += w * src[t - s];
          });
        }
        return p;
      });
      const v = incoming.length ? pooledVariance(P, c.burnIn, Ttot) : 0;
      const sigma = st.noiseSd[i];
      const scale = v > 0 ? (Math.sqrt(dg.snr[i]) * sigma) / Math.sqrt(v) : 0;
      receiverScale[g][i] = scale;
      const [a1, a2] = st.ownAr[i];
      const load = st.loads.get(i) ?? 0;
      units.forEach((u, k) => {
        const xs = x[u][i];
        const p = P[k];
        const e = ex.noise[u];
        const d = ex.latent[u];
        for (let t = 0; t < Ttot; t++) {
          let val = scale * p[t] + sigma * e[t * N + i] + load * d[t];
          if (t >= 1) val += a1 * xs[t - 1];
          if (t >= 2) val += a2 * xs[t - 2];
          xs[t] = val;
        }
      });
    }
  });
  return { x, receiverScale };
}

/** The nodes that are VAR nodes (all but spend channels). */
function varNodes(c: FamilyConfig): number[] {
  const N = c.channels + c.intermediates + 1;
  return Array.from({ length: N }, (_, i) => i).filter((i) => !(c.kind === "media" && i < c.channels));
}

/** The companion spectral radius of graph g's VAR (spend excluded; unit jitter does not move it in a DAG). */
function graphSpectralRadius(c: FamilyConfig, st: Structure, receiverScale: number[][], g: number): number {
  const dyn = varNodes(c);
  const pos = new Map(dyn.map((i, k) => [i, k]));
  const Lc = Math.max(c.graph.maxLag, c.dynamics.ownLags);
  const A = Array.from({ length: Lc }, () => Array.from({ length: dyn.length }, () => new Array<number>(dyn.length).fill(0)));
  dyn.forEach((i, k) => {
    A[0][k][k] += st.ownAr[i][0];
    if (Lc >= 2) A[1][k][k] += st.ownAr[i][1];
  });
  for (const e of st.graphs[g].edges) {
    const from = pos.get(e.from);
    if (from === undefined) continue;
    e.lags.forEach((s, a) => (A[s - 1][pos.get(e.to)!][from] += receiverScale[g][e.to] * e.raw[a]));
  }
  return companionSpectralRadius(companion(A));
}

/** Throws on a non-finite or exploding series. */
function checkBounded(x: Float64Array[][], names: string[], member: string): void {
  x.forEach((row, u) =>
    row.forEach((s, i) => {
      for (let t = 0; t < s.length; t++) {
        if (!Number.isFinite(s[t]) || Math.abs(s[t]) > 1e9) {
          throw new Error(`evaluation family ${member}: ${names[i]} of unit ${u} explodes (${s[t]} at step ${t})`);
        }
      }
    }),
  );
}

/** The panel's values `[units, steps, nodes]` after burn-in, scaled and shifted when the switch is on. */
function observe(c: FamilyConfig, x: Float64Array[][], rng: Rng): { values: Float32Array; scales?: FamilyTruth["scales"] } {
  const R = c.units;
  const T = c.steps;
  const N = c.channels + c.intermediates + 1;
  const sc = c.scales;
  const node = Array.from({ length: N }, () => Math.pow(10, uniformIn(rng, sc.nodeDecades)));
  const unit = Array.from({ length: R }, () => Array.from({ length: N }, () => Math.pow(10, uniformIn(rng, sc.unitDecades))));
  const level = Array.from({ length: R }, () => Array.from({ length: N }, () => uniformIn(rng, sc.offset)));
  const offset = Array.from({ length: R }, () => new Array<number>(N).fill(0));
  const values = new Float32Array(R * T * N);
  for (let u = 0; u < R; u++) {
    for (let i = 0; i < N; i++) {
      const s = x[u][i].subarray(c.burnIn);
      let k = 1;
      let o = 0;
      if (sc.enabled) {
        k = node[i] * unit[u][i];
        if (!(c.kind === "media" && i < c.channels)) {
          let min = Infinity;
          for (const v of s) min = Math.min(min, v);
          o = -min + level[u][i] * Math.sqrt(pooledVariance([s], 0, T));
          offset[u][i] = o * k;
        }
      }
      for (let t = 0; t < T; t++) values[(u * T + t) * N + i] = k * (s[t] + o);
    }
  }
  return sc.enabled ? { values, scales: { node, unit, offset } } : { values };
}

/**
 * Generates one panel of the family; `member` names it in the provenance. Throws on an invalid
 * configuration or an unstable draw. The graphs are drawn as {@link FamilyGraphConfig} and
 * {@link GraphSharing} describe; the kinds are {@link FamilyLinear} and {@link FamilyMedia}, the
 * switches {@link FamilyScales} and {@link FamilyConfounder}.
 *
 * Dynamics: every non-spend node follows
 *
 *     x_i(t) = a_i1 x_i(t-1) + a_i2 x_i(t-2)
 *              + c_i * sum_{j in pa(i)} sum_{s in lags(j,i)} w_ijs f_j(x_j(t-s))
 *              + sigma_i e_i(t) + [confounder]
 *
 * with e_i Gaussian or Student-t (scaled to unit variance), `sigma_i` log-uniform over
 * `dynamics.noise.sd`, own autoregression of order `dynamics.ownLags` (1 or 2). `c_i` sets the
 * receiver's innovation signal-to-noise ratio `Var(c_i P_i) / sigma_i^2` to a drawn value
 * (`dynamics.snr`, `dynamics.targetSnr` for the target), P_i's variance taken within units,
 * pooled over the units of the graph, after burn-in: the relative weights of a receiver's edges
 * and lags keep their wide range, only the receiver's total parent signal is set.
 *
 * Stability is checked on the companion matrix. The lag polynomial of a DAG VAR is triangular in
 * topological order, so the companion spectral radius is the largest modulus of the nodes' own AR
 * roots, whatever the edge weights: own AR coefficients are drawn, then rescaled (a_1 -> r a_1,
 * a_2 -> r^2 a_2, which scales the roots by r) until every root is within
 * `dynamics.ownRadiusMax` < 1. The generator then builds the companion matrix of each graph's VAR
 * (spend channels excluded: they are exogenous and bounded after saturation), computes its
 * spectral radius (Gelfand formula) and throws at >= 1; it also throws on non-finite or exploding
 * series. Burn-in steps are simulated and discarded.
 *
 * What every panel records: `panel.truth` (graphs per unit), roles, names, and
 * `panel.provenance`: generator `"evaluation-family"`, `params.member` (the member's name),
 * `params.config` (the full configuration), `params.drawn` (orders, edges with lags and final
 * weights, own AR, noise, scales, media parameters, spectral radii), `params.graphForecast`
 * ({@link graphForecastGain}: the MSE@7 ratio of a linear own-past forecaster to a linear
 * forecaster on the true parents) and the seed.
 *
 * Random streams: one `Rng(seed)` forks, in a fixed order, streams for the structure, the spend,
 * the noise, the confounder, the scales and the jitter, so switching one part of the
 * configuration leaves the draws of the others alone.
 */
export function generateFamily(input: FamilyInput, seed: number, member = "custom"): FamilyResult {
  const c = familyConfig(input);
  const R = c.units;
  const T = c.steps;
  const { names, roles } = layout(c.channels, c.intermediates);
  const root = new Rng(seed);
  const rStruct = root.fork();
  const streams = { spend: root.fork(), noise: root.fork(), latent: root.fork() };
  const rScale = root.fork();
  const st = drawStructure(c, rStruct);
  const ex = drawExogenous(c, st, { ...streams, jitter: root.fork() }, names);
  const { x, receiverScale } = simulate(c, st, ex);
  const spectralRadius = st.graphs.map((_, g) => {
    const rho = graphSpectralRadius(c, st, receiverScale, g);
    if (!(rho < 1)) throw new Error(`evaluation family ${member}: graph ${g} is unstable (companion spectral radius ${rho}); lower dynamics.ownRadiusMax`);
    return rho;
  });
  checkBounded(x, names, member);
  const { values, scales } = observe(c, x, rScale);

  const truth: FamilyTruth = {
    graphs: st.graphs.map((dg) => dg.graph),
    graphOfUnit: st.graphOfUnit,
    order: st.graphs.map((dg) => dg.order),
    edges: st.graphs.flatMap((dg, g) =>
      dg.edges.map((e) => ({ graph: g, from: names[e.from], to: names[e.to], lags: e.lags, weights: e.raw.map((w) => receiverScale[g][e.to] * w) })),
    ),
    ownAr: st.ownAr,
    noiseSd: st.noiseSd,
    snr: st.graphs.map((dg) => dg.snr),
    receiverScale,
    spectralRadius,
    ownRootMax: Math.max(...varNodes(c).map((i) => ownRootModulus(st.ownAr[i][0], st.ownAr[i][1]))),
    inertChannels: st.inert.map((j) => names[j]),
    confounded: [...st.loads].sort((a, b) => a[0] - b[0]).map(([i, load]) => ({ node: names[i], load })),
  };
  if (ex.spend) {
    truth.channels = ex.spend.channels;
    truth.unitLevel = ex.spend.unitLevel;
  }
  if (c.dynamics.weightJitter > 0) truth.unitEdgeFactor = ex.jitter;
  if (scales) truth.scales = scales;

  const width = String(R - 1).length;
  const panel: Panel = {
    values,
    units: R,
    steps: T,
    nodes: names.length,
    nodeNames: names,
    roles,
    unitIds: Array.from({ length: R }, (_, u) => `unit${String(u).padStart(width, "0")}`),
    truth: { graphs: truth.graphs, graphOfUnit: truth.graphOfUnit },
    provenance: { generator: "evaluation-family", params: { member, kind: c.kind, config: c, drawn: truth }, seed },
  };
  validatePanel(panel, { requireDag: true, targetIsSink: true, nonNegativeChannels: c.kind === "media" });
  const graphForecast = graphForecastGain(panel, c.forecast);
  panel.provenance.params.graphForecast = graphForecast;
  const latent = new Float32Array(R * T);
  for (let u = 0; u < R; u++) for (let t = 0; t < T; t++) latent[u * T + t] = ex.latent[u][c.burnIn + t];
  return { member, panel, config: c, truth, latent, graphForecast };
}

/** The linear-VAR kind (see {@link FamilyLinear} and {@link generateFamily}). */
export function generateLinearFamily(input: FamilyInput, seed: number, member = "custom-linear"): FamilyResult {
  return generateFamily({ ...input, kind: "linear" }, seed, member);
}

/** The media kind (see {@link FamilyMedia} and {@link generateFamily}). */
export function generateMediaFamily(input: FamilyInput, seed: number, member = "custom-media"): FamilyResult {
  return generateFamily({ ...input, kind: "media" }, seed, member);
}

// ---------------------------------------------------------------------------------------------
// How much the graph is worth to a forecast
// ---------------------------------------------------------------------------------------------

export const GRAPH_FORECAST_DEFAULTS: GraphForecastOptions = FAMILY_DEFAULTS.forecast;

/** One node's rollout errors under both forecasters. */
export interface NodeForecastGain {
  node: string;
  mseOwnPast: number;
  mseParents: number;
  /** mseOwnPast / mseParents. */
  ratio: number;
}

/** What {@link graphForecastGain} reports (also `panel.provenance.params.graphForecast`). */
export interface GraphForecastGain {
  lags: number;
  horizon: number;
  trainSteps: number;
  /** Forecast origins per unit. */
  origins: number;
  /** The target's MSE@horizon under each forecaster, and their ratio (own past / parents). */
  mseOwnPast: number;
  mseParents: number;
  ratio: number;
  byNode: NodeForecastGain[];
}

/**
 * How much the true graph is worth to a forecast: the MSE@M ratio of a linear own-past
 * forecaster (each node an AR(L) on its own past) to a linear forecaster on the true parents
 * (each node on its own and its true parents' L lags). Every series is standardised per unit and
 * node by its training-window mean and SD (so scales and offsets do not weigh); both forecasters
 * are fitted by least squares (lib/core/linear-var's solver) on the first `trainShare` of the
 * steps, pooled over the units that share a true graph (a per-unit graph is fitted on its unit);
 * then from every origin o of the remaining steps (history observed up to o - 1) every node is
 * rolled out M steps on its own forecasts and the squared errors are averaged over the M steps,
 * the origins and all units. A ratio above 1: the parents improve the forecast.
 */
export function graphForecastGain(panel: Panel, options: Partial<GraphForecastOptions> = {}): GraphForecastGain {
  const o = { ...GRAPH_FORECAST_DEFAULTS, ...options };
  if (!panel.truth) throw new Error("graphForecastGain: the panel has no true graphs");
  const { units: R, steps: T, nodes: N } = panel;
  const L = o.lags;
  const H = o.horizon;
  const Ttr = Math.round(T * o.trainShare);
  if (Ttr <= 2 * L || T - Ttr < H) {
    throw new Error(`graphForecastGain: ${T} steps leave ${Ttr} to fit and ${T - Ttr} to evaluate (need > ${2 * L} and >= ${H})`);
  }
  const tgt = targetIndex(panel);
  // Standardised copies, [t * N + i] per unit.
  const z = Array.from({ length: R }, (_, u) => {
    const out = new Float64Array(T * N);
    for (let i = 0; i < N; i++) {
      let m = 0;
      for (let t = 0; t < Ttr; t++) m += panel.values[(u * T + t) * N + i];
      m /= Ttr;
      let v = 0;
      for (let t = 0; t < Ttr; t++) v += (panel.values[(u * T + t) * N + i] - m) ** 2;
      const sd = Math.sqrt(v / Ttr) || 1;
      for (let t = 0; t < T; t++) out[t * N + i] = (panel.values[(u * T + t) * N + i] - m) / sd;
    }
    return out;
  });
  const { graphs, graphOfUnit } = panel.truth;
  const sse = { own: new Float64Array(N), parents: new Float64Array(N) };
  let count = 0;
  const origins = T - H - Ttr + 1;
  graphs.forEach((G, g) => {
    const units = graphOfUnit.flatMap((k, u) => (k === g ? [u] : []));
    if (units.length === 0) return;
    const zs = units.map((u) => z[u]);
    const gm = lagGram(zs, L, Ttr, N);
    // The window of one rollout: L observed steps, then H forecast steps, [k * N + j].
    const w = new Float64Array((L + H) * N);
    for (const model of ["own", "parents"] as const) {
      const regs = Array.from({ length: N }, (_, i) =>
        model === "own" ? [i] : [i, ...Array.from({ length: N }, (_, j) => j).filter((j) => j !== i && G[j][i])],
      );
      const beta = regs.map((rg, i) => fitLagRegression(gm, i, rg, L, "graphForecastGain"));
      for (const zu of zs) {
        for (let t0 = Ttr; t0 + H <= T; t0++) {
          w.set(zu.subarray((t0 - L) * N, t0 * N));
          for (let h = 0; h < H; h++) {
            const k = L + h;
            for (let i = 0; i < N; i++) {
              const b = beta[i];
              const rg = regs[i];
              let y = b[0];
              for (let r = 0; r < rg.length; r++) for (let s = 1; s <= L; s++) y += b[1 + r * L + s - 1] * w[(k - s) * N + rg[r]];
              w[k * N + i] = y;
            }
          }
          for (let h = 0; h < H; h++) for (let i = 0; i < N; i++) sse[model][i] += (w[(L + h) * N + i] - zu[(t0 + h) * N + i]) ** 2;
          if (model === "own") count += H;
        }
      }
    }
  });
  const byNode = panel.nodeNames.map((node, i) => {
    const mseOwnPast = sse.own[i] / count;
    const mseParents = sse.parents[i] / count;
    return { node, mseOwnPast, mseParents, ratio: mseOwnPast / mseParents };
  });
  return {
    lags: L,
    horizon: H,
    trainSteps: Ttr,
    origins,
    mseOwnPast: byNode[tgt].mseOwnPast,
    mseParents: byNode[tgt].mseParents,
    ratio: byNode[tgt].ratio,
    byNode,
  };
}

// ---------------------------------------------------------------------------------------------
// The family
// ---------------------------------------------------------------------------------------------

/** A named member: a configuration over {@link FAMILY_DEFAULTS}. */
export interface FamilyMember {
  name: string;
  config: FamilyInput;
}

/**
 * The evaluation family (STUDY.md, "Data" 8). Each member is a configuration over
 * {@link FAMILY_DEFAULTS}; what it varies and why:
 *
 * - `linear-short` (linear, R 40, T 120, 3 channels + 3 intermediates, one shared graph,
 *   Gaussian noise): the plain case a linear Granger baseline is made for; random lag sets,
 *   mixed signs and a 20x range of weights make some true edges weak; channel -> channel edges
 *   exist. A method that fails here fails everywhere.
 * - `linear-long` (linear, R 100, T 400, 4 + 5 nodes, 3 graphs among units, Student-t noise
 *   with 4 degrees of freedom, per-unit weight jitter 0.2): more data, a larger graph, heavy
 *   tails and units that differ in strength within a graph: whether a method improves with
 *   data and tolerates outliers.
 * - `media-short` (media, R 50, T 150, 3 channels + 2 intermediates, shared graph): spend with
 *   flights, bursts and zeros through adstock and Hill saturation into a funnel: the nonlinear
 *   media setting of the study, with its own equations.
 * - `media-per-unit` (media, R 40, T 150, per-unit graphs): every unit its own DAG, so nothing
 *   can be learned by pooling units that share a graph: per-unit recovery from 150 steps.
 * - `hetero-scales` (media, R 40, T 120, 2 graphs among units, heterogeneous scales on): node
 *   scales over 5 decades, unit scales over 1 decade and positive raw levels, as exported data
 *   come: whether a method's own scaling copes.
 * - `confounded` (media, R 50, T 150, 4 channels of which 1 inert, confounder strength 1): an
 *   AR(1) demand shock drives every channel's spend and the target's innovation without being
 *   a node, so channels (the inert one included) move with the target beyond the true graph:
 *   whether a method mistakes co-movement for edges.
 */
export const EVALUATION_FAMILY: readonly FamilyMember[] = [
  { name: "linear-short", config: { kind: "linear", units: 40, steps: 120 } },
  {
    name: "linear-long",
    config: {
      kind: "linear",
      units: 100,
      steps: 400,
      channels: 4,
      intermediates: 5,
      graph: { sharing: { mode: "groups", count: 3 } },
      dynamics: { noise: { dist: "student-t", df: 4 }, weightJitter: 0.2 },
    },
  },
  { name: "media-short", config: { kind: "media", units: 50, steps: 150, intermediates: 2 } },
  { name: "media-per-unit", config: { kind: "media", units: 40, steps: 150, intermediates: 2, graph: { sharing: { mode: "per-unit" } } } },
  { name: "hetero-scales", config: { kind: "media", units: 40, steps: 120, graph: { sharing: { mode: "groups", count: 2 } }, scales: { enabled: true } } },
  { name: "confounded", config: { kind: "media", units: 50, steps: 150, channels: 4, graph: { inertChannels: 1 }, confounder: { strength: 1 } } },
];

/** The member called `name`; throws naming the members otherwise. */
export function familyMember(name: string): FamilyMember {
  const m = EVALUATION_FAMILY.find((x) => x.name === name);
  if (!m) throw new Error(`no evaluation-family member "${name}" (members: ${EVALUATION_FAMILY.map((x) => x.name).join(", ")})`);
  return m;
}

/**
 * Builds one panel of a member (by name or as a member object) with a seed; `override` is
 * merged over the member's configuration (e.g. fewer units in a test, the confounder off).
 */
export function familyPanel(member: FamilyMember | string, seed: number, override: FamilyInput = {}): FamilyResult {
  const m = typeof member === "string" ? familyMember(member) : member;
  const config = mergeDeep(mergeDeep(FAMILY_DEFAULTS, m.config), override);
  return generateFamily(config, seed, m.name);
}
