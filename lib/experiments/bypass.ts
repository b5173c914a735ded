/**
 * The bypass benchmark (STUDY.md claims 1 and 3): per seed, DICE Stage 1 and its support
 * selected by validation MSE, then each decoder variant trained with its supplied graph and
 * evaluated on the test window (MSE@7; CIG and AR-CIG against the true graph, on all pairs and
 * on the target's column; agreement with the generator's true influence), and the frozen
 * DICE-hard decoder evaluated once more with the oracle graph (the swap of claim 3). The claim
 * checks say which of them hold by construction of the decoders and which are measured.
 */
import { meanSd } from "../diagnostics/stability";
import { type SupportSelection, type ValidationEvidence } from "../models/support";
import { type Stage1Config, type Stage1Run, selectSupportByValidation } from "./dice";
import { CLAIM_BOUNDS, type ClaimCheck, type Summary, claimList, claimVerdict, frozenSwapChecks, summarise } from "./measures";
import { type DecoderEvaluation, type DecoderTrainConfig, type EvaluationConfig, type TimePanel, VARIANT_LABELS, evaluateDecoder } from "./protocol";
import { type DecoderName, createDecoder, createStage1 } from "./variants";

export type BypassDecoder = DecoderName;
export const BYPASS_DECODERS: readonly BypassDecoder[] = ["no-graph", "full-graph", "high-capacity", "oracle", "dice-hard", "dice-soft"];

export interface BypassConfig {
  decoders: readonly BypassDecoder[];
  stage1: Partial<Stage1Config>;
  decoder: Partial<DecoderTrainConfig>;
  evaluation: Partial<EvaluationConfig>;
}

/** One (seed, decoder) row of the bypass table. */
export interface BypassRow {
  seed: number;
  decoder: BypassDecoder;
  mse7Target: number;
  mse7All: number;
  nauprcCig: number;
  nauprcDirect: number;
  nauprcTotal: number;
  /** Direct AR-CIG nAUPRC on the target's column (pairs j -> target). */
  targetNauprcDirect: number;
  /** Direct AR-CIG against the true influence (NaN without one): relative error over all pairs and on the target's column; Spearman on the pairs the truth reaches. */
  relativeError: number;
  relativeErrorTarget: number;
  supportSpearman: number;
  /** Seconds of training and of evaluation. */
  trainSeconds: number;
  evalSeconds: number;
}

export interface BypassSeedResult {
  seed: number;
  stage1: { auroc: number; nauprc: number; selection: SupportSelection<ValidationEvidence>; seconds: number };
  rows: BypassRow[];
  evaluations: DecoderEvaluation[];
  /**
   * Frozen swap of the DICE-hard decoder (when it ran): evaluated with its learned support and
   * with the oracle graph, nothing retrained (STUDY.md claim 3).
   */
  swap: { learned: DecoderEvaluation; oracle: DecoderEvaluation } | null;
}

const NO_SELECTION: SupportSelection<ValidationEvidence> = {
  method: "validation",
  graphs: [],
  evidence: { candidates: [], chosen: { threshold: NaN, edges: NaN, score: NaN }, tolerance: 0 },
};

/**
 * One seed of the bypass benchmark: DICE Stage 1 (when a DICE decoder is asked for), support
 * selection by validation MSE, then each decoder of `config.decoders` trained with its graph and
 * evaluated. The models are disposed; the evaluations (with their influence matrices) are kept.
 */
export async function bypassSeed(tp: TimePanel, seed: number, config: Partial<BypassConfig> = {}): Promise<BypassSeedResult> {
  if (!tp.truth) throw new Error("bypassSeed: the benchmark needs a panel with true graphs");
  const decoders = config.decoders ?? BYPASS_DECODERS;
  let stage1: BypassSeedResult["stage1"] = { auroc: NaN, nauprc: NaN, selection: NO_SELECTION, seconds: 0 };
  let s1: Stage1Run | undefined;
  if (decoders.some((d) => d === "dice-hard" || d === "dice-soft")) {
    s1 = (await createStage1(tp, config.stage1 ?? {}, { seed })).stage1;
    const selection = selectSupportByValidation(s1, tp);
    stage1 = { auroc: s1.scores?.auroc ?? NaN, nauprc: s1.scores?.nauprc ?? NaN, selection, seconds: s1.fit.seconds };
  }
  const rows: BypassRow[] = [];
  const evaluations: DecoderEvaluation[] = [];
  let swap: BypassSeedResult["swap"] = null;
  for (const d of decoders) {
    const run = await createDecoder(tp, d, config.decoder ?? {}, { seed, stage1: s1, selection: stage1.selection });
    const ev = evaluateDecoder(run, tp, config.evaluation);
    if (d === "dice-hard")
      swap = { learned: ev, oracle: evaluateDecoder({ ...run, name: "dice-hard with the oracle graph", graphs: tp.truth }, tp, config.evaluation) };
    run.dispose();
    evaluations.push(ev);
    rows.push({
      seed,
      decoder: d,
      mse7Target: ev.mse7.target,
      mse7All: ev.mse7.allNodes,
      nauprcCig: ev.nauprc.cig,
      nauprcDirect: ev.nauprc.direct,
      nauprcTotal: ev.nauprc.total,
      targetNauprcDirect: ev.targetNauprc.direct,
      relativeError: ev.agreement?.direct.relativeError ?? NaN,
      relativeErrorTarget: ev.agreement?.direct.target.relativeError ?? NaN,
      supportSpearman: ev.agreement?.direct.supportSpearman ?? NaN,
      trainSeconds: run.fit.seconds,
      evalSeconds: ev.seconds,
    });
  }
  s1?.model.dispose();
  return { seed, stage1, rows, evaluations, swap };
}

/** The measures of the bypass table. */
export type BypassMeasure =
  "mse7Target" | "mse7All" | "directNauprc" | "targetNauprc" | "relativeError" | "targetRelativeError" | "supportSpearman" | "totalNauprc" | "cigNauprc";

/** The bypass table's numbers over seeds, one row per decoder (rows are decoder names). */
export function bypassSummary(results: readonly BypassSeedResult[]): Summary<BypassDecoder, BypassMeasure> {
  return summarise(
    "decoder",
    results.flatMap((r) => r.rows),
    (row) => row.decoder,
    {
      mse7Target: (row) => row.mse7Target,
      mse7All: (row) => row.mse7All,
      directNauprc: (row) => row.nauprcDirect,
      targetNauprc: (row) => row.targetNauprcDirect,
      relativeError: (row) => row.relativeError,
      targetRelativeError: (row) => row.relativeErrorTarget,
      supportSpearman: (row) => row.supportSpearman,
      totalNauprc: (row) => row.nauprcTotal,
      cigNauprc: (row) => row.nauprcCig,
    },
    (d) => VARIANT_LABELS[d],
  );
}

/** Mean of the finite values (NaN when none). */
const avg = (v: readonly number[]) => meanSd(v).mean;
const f2 = (x: number) => x.toFixed(2);

const NO_GRAPH_ZERO = "the no-graph decoder has no cross-node path: its off-diagonal influence is exactly 0";
const ORACLE_SUPPORT = "the graph-safe decoder along the true graph can only send influence along true edges: its direct AR-CIG ranks true edges first";

/**
 * STUDY.md claim 1 on the bypass results (means over seeds): the no-graph, full-graph and
 * high-capacity decoders' target MSE@7 within 10% of the oracle decoder's, their direct AR-CIG
 * nAUPRC at most the bypass bound and their relative error against the true influence at least
 * the bypass bound; the oracle's nAUPRC at least the aligned bound and its relative error at most
 * the aligned bound. Claim 3 from the frozen swap: the DICE-hard decoder with the oracle graph
 * against its learned support, in nAUPRC and in relative error. Checks decided by the
 * architecture carry `byConstruction`.
 */
export function bypassClaims(results: readonly BypassSeedResult[]): { claim1: ClaimCheck[]; claim3: ClaimCheck[] } {
  const s = bypassSummary(results);
  const mean = (d: BypassDecoder, m: BypassMeasure) => (s.has(d) ? avg(s.values(d, m)) : NaN);
  const B = CLAIM_BOUNDS;
  const oracleMse = mean("oracle", "mse7Target");
  const claim1: ClaimCheck[] = [];
  const hasTruthInfluence = results.some((r) => r.rows.some((row) => !Number.isNaN(row.relativeError)));
  for (const d of ["no-graph", "full-graph", "high-capacity"] as const) {
    if (!s.has(d) || !s.has("oracle")) continue;
    const ratio = mean(d, "mse7Target") / oracleMse;
    claim1.push({ what: `${d} MSE@7 / oracle MSE@7`, value: ratio, bound: `<= ${f2(B.forecastRatio)}`, holds: ratio <= B.forecastRatio });
    const n = mean(d, "directNauprc");
    const zero = d === "no-graph" ? { byConstruction: NO_GRAPH_ZERO } : {};
    claim1.push({ what: `${d} direct AR-CIG nAUPRC`, value: n, bound: `<= ${f2(B.bypassNauprc)}`, holds: n <= B.bypassNauprc, ...zero });
    if (hasTruthInfluence) {
      const e = mean(d, "relativeError");
      claim1.push({ what: `${d} relative error against the true influence`, value: e, bound: `>= ${f2(B.bypassError)}`, holds: e >= B.bypassError, ...zero });
    }
  }
  if (s.has("oracle")) {
    const n = mean("oracle", "directNauprc");
    claim1.push({
      what: "oracle direct AR-CIG nAUPRC",
      value: n,
      bound: `>= ${f2(B.alignedNauprc)}`,
      holds: n >= B.alignedNauprc,
      byConstruction: ORACLE_SUPPORT,
    });
    if (hasTruthInfluence) {
      const e = mean("oracle", "relativeError");
      claim1.push({ what: "oracle relative error against the true influence", value: e, bound: `<= ${f2(B.alignedError)}`, holds: e <= B.alignedError });
    }
  }
  const swaps = results.map((r) => r.swap).filter((x): x is NonNullable<BypassSeedResult["swap"]> => x !== null);
  const claim3: ClaimCheck[] =
    swaps.length > 0
      ? frozenSwapChecks(
          { oracle: avg(swaps.map((x) => x.oracle.nauprc.direct)), learned: avg(swaps.map((x) => x.learned.nauprc.direct)) },
          {
            oracle: avg(swaps.map((x) => x.oracle.agreement?.direct.relativeError ?? NaN)),
            learned: avg(swaps.map((x) => x.learned.agreement?.direct.relativeError ?? NaN)),
          },
        )
      : [];
  return { claim1, claim3 };
}

/**
 * The conclusion of the bypass benchmark in words, from its own numbers (Markdown): which checks
 * of claims 1 and 3 hold, measured and by construction, and what the unconstrained decoder did.
 */
export function bypassConclusion(results: readonly BypassSeedResult[]): string {
  const { claim1, claim3 } = bypassClaims(results);
  const s = bypassSummary(results);
  const m = (d: BypassDecoder, k: BypassMeasure) => (s.has(d) ? avg(s.values(d, k)) : NaN);
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : "n/a");
  const L = VARIANT_LABELS;
  const lines = [
    `**Claim 1 ${claimVerdict(claim1)}** on this run (${results.length} seed${results.length === 1 ? "" : "s"}, means over seeds; the verdict counts the measured checks only):`,
    claimList(claim1, f),
    "",
    `**Claim 3 ${claimVerdict(claim3)}** (the DICE-hard decoder frozen, only its supplied graph swapped; the verdict counts the measured checks only):`,
    claimList(claim3, f),
    "",
    `The unconstrained ${L["high-capacity"]} decoder reached target MSE@7 ${f(m("high-capacity", "mse7Target"))} against the oracle's ` +
      `${f(m("oracle", "mse7Target"))}, ` +
      `with direct AR-CIG nAUPRC ${f(m("high-capacity", "directNauprc"))} (target column ${f(m("high-capacity", "targetNauprc"))}) and relative error ` +
      `${f(m("high-capacity", "relativeError"))} against the true influence (target column ${f(m("high-capacity", "targetRelativeError"))}); ` +
      `${L["dice-hard"]} and ${L["dice-soft"]} reached nAUPRC ${f(m("dice-hard", "directNauprc"))} and ${f(m("dice-soft", "directNauprc"))}, ` +
      `relative error ${f(m("dice-hard", "relativeError"))} and ${f(m("dice-soft", "relativeError"))}, ` +
      `at MSE@7 ${f(m("dice-hard", "mse7Target"))} and ${f(m("dice-soft", "mse7Target"))}.`,
  ];
  return lines.join("\n");
}

/**
 * What the bypass runs show, in words from their numbers (Markdown), one paragraph per
 * benchmark: how close each decoder forecasts to the oracle, how far its direct AR-CIG is from
 * the true influence, and whether forecast error would have told the decoders' attributions apart.
 */
export function bypassReading(benchmarks: readonly { label: string; results: readonly BypassSeedResult[] }[]): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : "n/a");
  const B = CLAIM_BOUNDS;
  return benchmarks
    .map(({ label, results }) => {
      const s = bypassSummary(results);
      const m = (d: BypassDecoder, k: BypassMeasure) => (s.has(d) ? avg(s.values(d, k)) : NaN);
      const oracle = m("oracle", "mse7Target");
      const others = (["no-graph", "full-graph", "high-capacity", "dice-hard", "dice-soft"] as const).filter((d) => s.has(d));
      const close = others.filter((d) => m(d, "mse7Target") / oracle <= B.forecastRatio);
      const parts = others.map((d) => `${VARIANT_LABELS[d]} ${f(m(d, "mse7Target") / oracle)} (relative error ${f(m(d, "relativeError"))})`);
      const byError = [...others, "oracle" as const].filter((d) => s.has(d)).sort((a, b) => m(a, "relativeError") - m(b, "relativeError"));
      const closeErrors = close.map((d) => m(d, "relativeError"));
      const spread = closeErrors.length > 1 ? Math.max(...closeErrors) - Math.min(...closeErrors) : NaN;
      return (
        `**${label}** (${results.length} seed${results.length === 1 ? "" : "s"}): MSE@7 of the target relative to the oracle decoder's ` +
        `(${f(oracle)}, relative error ${f(m("oracle", "relativeError"))} against the true influence): ${parts.join(", ")}. ` +
        (close.length > 1
          ? `${close.length} decoders forecast within ${Math.round((B.forecastRatio - 1) * 100)}% of the oracle (${close.map((d) => VARIANT_LABELS[d]).join(", ")}), ` +
            `and their relative errors span ${f(spread)}: forecast error does not tell their attributions apart. `
          : `Only ${close.length} decoder${close.length === 1 ? "" : "s"} forecast${close.length === 1 ? "s" : ""} within ${Math.round((B.forecastRatio - 1) * 100)}% of the oracle. `) +
        `Closest to the true influence: ${byError
          .slice(0, 3)
          .map((d) => `${VARIANT_LABELS[d]} (${f(m(d, "relativeError"))})`)
          .join(", ")}.`
      );
    })
    .join("\n\n");
}
