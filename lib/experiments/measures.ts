/**
 * The catalogue of the study's measures and the bounds its claims are checked against, in one
 * place. Each measure has one identifier and one display label; a study summarises its runs as
 * a `Summary` (rows such as decoders or selections, measures by identifier, values over seeds),
 * which notebooks read through typed accessors and show as tables labelled from the catalogue.
 */
import type * as aq from "arquero";
import { groupValues, meanSd, meanSdTable } from "../diagnostics/stability";

/** Every measure a study reports: identifier -> display label. */
export const MEASURES = {
  mse7Target: "MSE@7 target",
  mse7All: "MSE@7 all",
  cigNauprc: "CIG nAUPRC",
  directNauprc: "direct AR-CIG nAUPRC",
  targetNauprc: "direct AR-CIG nAUPRC (target column)",
  relativeError: "relative error vs true influence",
  targetRelativeError: "relative error (target column)",
  supportSpearman: "Spearman on true-influence pairs",
  totalNauprc: "total AR-CIG nAUPRC",
  auroc: "AUROC",
  nauprc: "nAUPRC",
  withinAuroc: "AUROC (role pairs)",
  withinNauprc: "nAUPRC (role pairs)",
  finalAuroc: "final AUROC",
  finalNauprc: "final nAUPRC",
  final20: "Final-20 AUROC",
  withinRunSd: "within-run SD",
  precision: "precision",
  recall: "recall",
  f1: "F1",
  shd: "SHD",
  edges: "edges per unit",
  gapClosed: "gap closed",
  errorGapClosed: "relative-error gap closed",
  trueRevenue: "true revenue",
  gainCaptured: "gain captured",
  predictedRevenue: "predicted revenue",
} as const;

export type MeasureId = keyof typeof MEASURES;

/** The display label of a measure. */
export const measureLabel = (m: MeasureId): string => MEASURES[m];

/**
 * The bounds of STUDY.md's claims as the study checks them (operational readings of "near zero",
 * "within 10%", "high", "most of the gap"), used by every conclusion and figure that draws them.
 */
export const CLAIM_BOUNDS = {
  /** Claim 1: bypassing decoders forecast within this ratio of the oracle's target MSE@7 ... */
  forecastRatio: 1.1,
  /** ... while their direct AR-CIG nAUPRC stays at or below this ... */
  bypassNauprc: 0.1,
  /** ... and the oracle decoder's reaches at least this. Claim 3 holds the frozen decoder with the oracle graph to it too. */
  alignedNauprc: 0.7,
  /** Claim 3: the frozen decoder's nAUPRC with its learned support is at least this far below its nAUPRC with the oracle graph. */
  swapGap: 0.2,
  /** Claim 5: a support selection whose support gives the frozen decoder at least this nAUPRC. */
  selectionNauprc: 0.6,
  /**
   * Claim 1, agreement with the true influence, read as the relative error of direct AR-CIG over
   * all pairs (sum |m - t| / sum |t|, mean over units; ours): "high agreement" is at most
   * `alignedError`, "low" at least `bypassError` (no influence at all scores 1).
   */
  alignedError: 0.5,
  bypassError: 0.8,
  /** Claim 5, against the true influence: a selection closes "most" of the learned-to-oracle gap in relative error when it closes at least this share of it (ours). */
  errorGapShare: 0.5,
} as const;

/** One check of a claim: the value, the bound it is held to, whether it holds, and why it must when it holds by construction. */
export interface ClaimCheck {
  what: string;
  value: number;
  bound: string;
  holds: boolean;
  /** Set when the decoder's architecture decides the outcome, whatever it learned: the reason. */
  byConstruction?: string;
}

/** A claim's verdict over its checks: measured checks decide; checks that hold by construction are reported, not counted. */
export function claimVerdict(cs: readonly ClaimCheck[]): "holds" | "holds in part" | "does not hold" | "was not measured" {
  // a check decided by the code is a test of the code, not evidence: with none measured, the claim was not measured
  const measured = cs.filter((c) => !c.byConstruction);
  if (measured.length === 0) return "was not measured";
  return measured.every((c) => c.holds) ? "holds" : measured.some((c) => c.holds) ? "holds in part" : "does not hold";
}

/** Markdown list of claim checks, with the reason where a check holds by construction. */
export function claimList(cs: readonly ClaimCheck[], f: (x: number) => string): string {
  return cs
    .map(
      (c) =>
        `- ${c.what}: ${f(c.value)} (${c.bound}): **${c.holds ? "holds" : "does not hold"}**` +
        (c.byConstruction ? ` (by construction: ${c.byConstruction})` : ""),
    )
    .join("\n");
}

/** Why a frozen graph-safe decoder's nAUPRC with a supplied graph is decided by that graph. */
export const SWAP_SUPPORT = "a frozen graph-safe decoder's direct AR-CIG is 0 off the graph it is given, so its nAUPRC largely re-scores that graph's support";

/**
 * STUDY.md claim 3 from a frozen swap (means over seeds): the DICE-hard decoder with the oracle
 * graph and with its learned support, in direct AR-CIG nAUPRC (labelled by construction) and in
 * relative error against the true influence (measured; left out when there is none).
 */
export function frozenSwapChecks(nauprc: { oracle: number; learned: number }, error: { oracle: number; learned: number }): ClaimCheck[] {
  const B = CLAIM_BOUNDS;
  const f2 = (x: number) => x.toFixed(2);
  const checks: ClaimCheck[] = [
    {
      what: "DICE-hard decoder with the oracle graph: direct AR-CIG nAUPRC",
      value: nauprc.oracle,
      bound: `>= ${f2(B.alignedNauprc)}`,
      holds: nauprc.oracle >= B.alignedNauprc,
      byConstruction: SWAP_SUPPORT,
    },
    {
      what: "DICE-hard decoder with its learned support: direct AR-CIG nAUPRC",
      value: nauprc.learned,
      bound: `well below the oracle's (gap >= ${f2(B.swapGap)})`,
      holds: nauprc.oracle - nauprc.learned >= B.swapGap,
      byConstruction: SWAP_SUPPORT,
    },
  ];
  if (Number.isNaN(error.oracle)) return checks;
  return [
    ...checks,
    {
      what: "DICE-hard decoder with the oracle graph: relative error against the true influence",
      value: error.oracle,
      bound: `<= ${f2(B.alignedError)}`,
      holds: error.oracle <= B.alignedError,
    },
    {
      what: "DICE-hard decoder with its learned support: relative error against the true influence",
      value: error.learned,
      bound: `well above the oracle graph's (gap >= ${f2(B.swapGap)})`,
      holds: error.learned - error.oracle >= B.swapGap,
    },
  ];
}

/**
 * Values over seeds of some measures for some rows (decoders, selections, settings, ...), in the
 * order rows first appear. `label` names the row column of its table.
 */
export class Summary<R extends string = string, M extends MeasureId = MeasureId> {
  constructor(
    readonly label: string,
    readonly measures: readonly M[],
    private readonly values_: Readonly<Record<string, Record<M, number[]>>>,
    private readonly rowLabel_: (row: R) => string = (row) => row,
  ) {}

  /** A row's display label (a variant's label for rows that are variant names). */
  labelOf(row: R): string {
    return this.rowLabel_(row);
  }

  /** The rows, in the order they first appeared. */
  get rows(): R[] {
    return Object.keys(this.values_) as R[];
  }

  has(row: string): row is R {
    return Object.prototype.hasOwnProperty.call(this.values_, row);
  }

  /** The values of one measure of one row over seeds; throws for an unknown row. */
  values(row: R, m: M): number[] {
    if (!this.has(row)) throw new Error(`summary "${this.label}": no row "${row}" (rows: ${this.rows.join(", ")})`);
    return this.values_[row][m];
  }

  /** Mean over seeds (NaN values skipped, as in the tables); NaN for a row that is absent. */
  mean(row: R, m: M): number {
    return this.has(row) ? meanSd(this.values_[row][m]).mean : NaN;
  }

  /** Standard deviation over seeds (NaN with fewer than two values or for an absent row). */
  sd(row: R, m: M): number {
    return this.has(row) ? meanSd(this.values_[row][m]).sd : NaN;
  }

  /**
   * A table of "mean +/- sd" per row (its display label) and measure (its display label); with
   * `numeric` (the default, for CSV files) also `<label>_mean` / `_sd` / `_n` columns.
   */
  table(measures: readonly M[] = this.measures, options: { numeric?: boolean } = {}): aq.ColumnTable {
    const rows: Record<string, Record<string, number[]>> = {};
    for (const r of this.rows) rows[this.labelOf(r)] = Object.fromEntries(measures.map((m) => [MEASURES[m], this.values_[r][m]]));
    return meanSdTable(rows, { label: this.label, numeric: options.numeric ?? true });
  }

  /** The table as a notebook shows it: "mean +/- sd" columns only. */
  display(measures: readonly M[] = this.measures): aq.ColumnTable {
    return this.table(measures, { numeric: false });
  }
}

/** Summarises items (one per seed and row) into a {@link Summary}: row -> measure -> values. */
export function summarise<T, R extends string, M extends MeasureId>(
  label: string,
  items: Iterable<T>,
  rowOf: (item: T) => R,
  measures: { readonly [K in M]: (item: T) => number },
  rowLabel?: (row: R) => string,
): Summary<R, M> {
  const grouped = groupValues(items, rowOf, measures as Record<string, (item: T) => number>) as Record<string, Record<M, number[]>>;
  return new Summary<R, M>(label, Object.keys(measures) as M[], grouped, rowLabel);
}

/** A summary built from rows of values already grouped (row -> measure -> values over seeds). */
export function summaryOf<R extends string, M extends MeasureId>(
  label: string,
  measures: readonly M[],
  values: Record<R, Partial<Record<M, number[]>>>,
): Summary<R, M> {
  const full: Record<string, Record<M, number[]>> = {};
  for (const [r, v] of Object.entries(values) as [R, Partial<Record<M, number[]>>][]) {
    full[r] = Object.fromEntries(measures.map((m) => [m, v[m] ?? []])) as Record<M, number[]>;
  }
  return new Summary<R, M>(label, measures, full);
}
