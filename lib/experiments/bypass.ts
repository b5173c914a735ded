/**
 * The bypass benchmark (STUDY.md claims 1 and 3): per seed, DICE Stage 1 and its support
 * selected by validation MSE, then each decoder variant trained with its supplied graph and
 * evaluated on the test window (MSE@7, CIG and AR-CIG against the true graph), and the frozen
 * DICE-hard decoder evaluated once more with the oracle graph (the swap of claim 3).
 */
import { type SupportSelection, type ValidationEvidence } from "../models/support";
import { type Stage1Config, type Stage1Run, selectSupportByValidation } from "./dice";
import { CLAIM_BOUNDS, type Summary, summarise } from "./measures";
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
      trainSeconds: run.fit.seconds,
      evalSeconds: ev.seconds,
    });
  }
  s1?.model.dispose();
  return { seed, stage1, rows, evaluations, swap };
}

/** The measures of the bypass table. */
export type BypassMeasure = "mse7Target" | "mse7All" | "directNauprc" | "totalNauprc" | "cigNauprc";

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
      totalNauprc: (row) => row.nauprcTotal,
      cigNauprc: (row) => row.nauprcCig,
    },
    (d) => VARIANT_LABELS[d],
  );
}

/** One measured check of a claim: the value, the bound it is held to, and whether it holds. */
export interface ClaimCheck {
  what: string;
  value: number;
  bound: string;
  holds: boolean;
}

const avg = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const f2 = (x: number) => x.toFixed(2);

/**
 * STUDY.md claim 1 on the bypass results (means over seeds): no-graph and full-graph MSE@7 of
 * the target within 10% of the oracle decoder's, their direct AR-CIG nAUPRC at most the bypass
 * bound, the oracle's at least the aligned bound; and claim 3 from the frozen swap: the DICE-hard
 * decoder's direct AR-CIG nAUPRC with the oracle graph against its learned support.
 */
export function bypassClaims(results: readonly BypassSeedResult[]): { claim1: ClaimCheck[]; claim3: ClaimCheck[] } {
  const s = bypassSummary(results);
  const mean = (d: BypassDecoder, m: BypassMeasure) => (s.has(d) ? avg(s.values(d, m)) : NaN);
  const B = CLAIM_BOUNDS;
  const oracleMse = mean("oracle", "mse7Target");
  const claim1: ClaimCheck[] = [];
  for (const d of ["no-graph", "full-graph"] as const) {
    if (!s.has(d) || !s.has("oracle")) continue;
    const ratio = mean(d, "mse7Target") / oracleMse;
    claim1.push({ what: `${d} MSE@7 / oracle MSE@7`, value: ratio, bound: `<= ${f2(B.forecastRatio)}`, holds: ratio <= B.forecastRatio });
    const n = mean(d, "directNauprc");
    claim1.push({ what: `${d} direct AR-CIG nAUPRC`, value: n, bound: `<= ${f2(B.bypassNauprc)}`, holds: n <= B.bypassNauprc });
  }
  if (s.has("oracle")) {
    const n = mean("oracle", "directNauprc");
    claim1.push({ what: "oracle direct AR-CIG nAUPRC", value: n, bound: `>= ${f2(B.alignedNauprc)}`, holds: n >= B.alignedNauprc });
  }
  const swaps = results.map((r) => r.swap).filter((x): x is NonNullable<BypassSeedResult["swap"]> => x !== null);
  const claim3: ClaimCheck[] = [];
  if (swaps.length > 0) {
    const withOracle = avg(swaps.map((x) => x.oracle.nauprc.direct));
    const withLearned = avg(swaps.map((x) => x.learned.nauprc.direct));
    claim3.push({
      what: "DICE-hard decoder with the oracle graph: direct AR-CIG nAUPRC",
      value: withOracle,
      bound: `>= ${f2(B.alignedNauprc)}`,
      holds: withOracle >= B.alignedNauprc,
    });
    claim3.push({
      what: "DICE-hard decoder with its learned support: direct AR-CIG nAUPRC",
      value: withLearned,
      bound: `well below the oracle's (gap >= ${f2(B.swapGap)})`,
      holds: withOracle - withLearned >= B.swapGap,
    });
  }
  return { claim1, claim3 };
}

/**
 * The conclusion of the bypass benchmark in words, from its own numbers (Markdown): which checks
 * of claims 1 and 3 hold, and what the unconstrained decoder did.
 */
export function bypassConclusion(results: readonly BypassSeedResult[]): string {
  const { claim1, claim3 } = bypassClaims(results);
  const s = bypassSummary(results);
  const m = (d: BypassDecoder, k: BypassMeasure) => (s.has(d) ? avg(s.values(d, k)) : NaN);
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : "n/a");
  const verdict = (cs: ClaimCheck[]) =>
    cs.length === 0 ? "was not measured" : cs.every((c) => c.holds) ? "holds" : cs.some((c) => c.holds) ? "holds in part" : "does not hold";
  const list = (cs: ClaimCheck[]) => cs.map((c) => `- ${c.what}: ${f(c.value)} (${c.bound}): **${c.holds ? "holds" : "does not hold"}**`).join("\n");
  const L = VARIANT_LABELS;
  const lines = [
    `**Claim 1 ${verdict(claim1)}** on this run (${results.length} seed${results.length === 1 ? "" : "s"}, means over seeds):`,
    list(claim1),
    "",
    `**Claim 3 ${verdict(claim3)}** (the DICE-hard decoder frozen, only its supplied graph swapped):`,
    list(claim3),
    "",
    `The unconstrained ${L["high-capacity"]} decoder reached target MSE@7 ${f(m("high-capacity", "mse7Target"))} against the oracle's ` +
      `${f(m("oracle", "mse7Target"))}, ` +
      `with direct AR-CIG nAUPRC ${f(m("high-capacity", "directNauprc"))}; ${L["dice-hard"]} and ${L["dice-soft"]} reached ` +
      `${f(m("dice-hard", "directNauprc"))} and ${f(m("dice-soft", "directNauprc"))}, ` +
      `at MSE@7 ${f(m("dice-hard", "mse7Target"))} and ${f(m("dice-soft", "mse7Target"))}.`,
  ];
  return lines.join("\n");
}
