/**
 * Stability of graph recovery (STUDY.md, "Measures"): Final-20 AUROC = mean and standard
 * deviation of the graph AUROC over the last 20 epochs of a training run; across seeds, the
 * mean +/- SD of the per-seed values (the study asks for at least 5 seeds). Plus the
 * `mean +/- sd` formatting (three decimals) and an arquero table of such summaries for notebooks.
 *
 * SDs are sample SDs (ddof = 1, as `torch.std`, the `+/-` of the papers) unless `ddof` says
 * otherwise; with a single value the sample SD is NaN. NaN entries of a history (epochs whose
 * AUROC was undefined) are left out and counted.
 */
import * as aq from "arquero";

/** Mean and SD of a set of values. */
export interface MeanSd {
  mean: number;
  sd: number;
  /** Finite values used. */
  n: number;
  /** Non-finite values left out. */
  skipped: number;
  /** Why mean or SD is NaN, when it is. */
  reason?: string;
}

/** Settings of the summaries. */
export interface StabilityConfig {
  /** Epochs at the end of a history that Final-k averages (20 for Final-20). */
  lastEpochs: number;
  /** Delta degrees of freedom of the SD: 1 = sample SD (default), 0 = population SD. */
  ddof: number;
  /** Decimal places of the formatted "mean +/- sd". */
  digits: number;
}

export const DEFAULT_STABILITY: StabilityConfig = { lastEpochs: 20, ddof: 1, digits: 3 };

/** Mean and SD of the finite values (SD with `ddof`, default 1). */
export function meanSd(values: readonly number[], ddof = DEFAULT_STABILITY.ddof): MeanSd {
  const v = values.filter(Number.isFinite);
  const skipped = values.length - v.length;
  if (v.length === 0) return { mean: NaN, sd: NaN, n: 0, skipped, reason: "no finite value" };
  const mean = v.reduce((s, x) => s + x, 0) / v.length;
  if (v.length - ddof <= 0) return { mean, sd: NaN, n: v.length, skipped, reason: `SD needs more than ${ddof} value(s)` };
  const sd = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / (v.length - ddof));
  return { mean, sd, n: v.length, skipped };
}

/** Final-k summary of one training run. */
export interface FinalWindow extends MeanSd {
  /** Epochs (0-based indices into the history) the window covers. */
  epochs: { from: number; to: number };
  /** True when the history is shorter than `lastEpochs` (all epochs were used). */
  short: boolean;
}

/**
 * Final-20 AUROC (or any per-epoch metric): mean and SD over the last `lastEpochs` entries of a
 * per-epoch history. A history shorter than that uses all its epochs and says so (`short`).
 */
export function finalWindow(history: readonly number[], config: Partial<StabilityConfig> = {}): FinalWindow {
  const c = { ...DEFAULT_STABILITY, ...config };
  if (!(Number.isInteger(c.lastEpochs) && c.lastEpochs >= 1)) throw new Error(`finalWindow: lastEpochs must be a positive integer, got ${c.lastEpochs}`);
  const from = Math.max(0, history.length - c.lastEpochs);
  const s = meanSd(history.slice(from), c.ddof);
  return { ...s, epochs: { from, to: history.length }, short: history.length < c.lastEpochs };
}

/** Final-k over several seeds. */
export interface FinalAcrossSeeds {
  /** Final-k summary of each seed's run. */
  perSeed: FinalWindow[];
  /** Mean +/- SD over seeds of the per-seed Final-k means. */
  acrossSeeds: MeanSd;
  /** Mean over seeds of the within-run Final-k SD (how much a run wobbles at its end). */
  meanWithinSd: number;
}

/** Final-k of every seed's history, then mean +/- SD over seeds. */
export function finalAcrossSeeds(histories: readonly (readonly number[])[], config: Partial<StabilityConfig> = {}): FinalAcrossSeeds {
  const c = { ...DEFAULT_STABILITY, ...config };
  const perSeed = histories.map((h) => finalWindow(h, c));
  const within = perSeed.map((p) => p.sd).filter(Number.isFinite);
  return {
    perSeed,
    acrossSeeds: meanSd(
      perSeed.map((p) => p.mean),
      c.ddof,
    ),
    meanWithinSd: within.length ? within.reduce((s, v) => s + v, 0) / within.length : NaN,
  };
}

/** "0.807 +/- 0.129" (NaN parts printed as "nan"; a NaN SD alone prints the mean only with "+/- nan"). */
export function formatMeanSd(s: Pick<MeanSd, "mean" | "sd">, digits = DEFAULT_STABILITY.digits): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(digits) : "nan");
  return `${f(s.mean)} +/- ${f(s.sd)}`;
}

/**
 * Groups rows into the input of {@link meanSdTable}: label -> metric -> values, in the order rows
 * and metrics first appear.
 */
export function groupValues<T>(
  rows: Iterable<T>,
  label: (row: T) => string,
  metrics: Record<string, (row: T) => number>,
): Record<string, Record<string, number[]>> {
  const out: Record<string, Record<string, number[]>> = {};
  for (const row of rows) {
    const m = (out[label(row)] ??= Object.fromEntries(Object.keys(metrics).map((k) => [k, [] as number[]])));
    for (const [k, f] of Object.entries(metrics)) m[k].push(f(row));
  }
  return out;
}

/**
 * An arquero table of mean +/- SD summaries for notebooks: one row per entry of `rows` (e.g. a
 * method or setting), one string column per metric with "mean +/- sd", plus numeric columns
 * `<metric>_mean`, `<metric>_sd` and `<metric>_n` when `numeric` is true (for sorting and plots).
 * @param rows label -> metric -> values (over seeds) or an already computed {@link MeanSd}.
 * @param options `label`: name of the label column (default "method"); digits; ddof; numeric.
 */
export function meanSdTable(
  rows: Record<string, Record<string, readonly number[] | MeanSd>>,
  options: { label?: string; digits?: number; ddof?: number; numeric?: boolean } = {},
): aq.ColumnTable {
  const label = options.label ?? "method";
  const digits = options.digits ?? DEFAULT_STABILITY.digits;
  const ddof = options.ddof ?? DEFAULT_STABILITY.ddof;
  const metrics: string[] = [];
  for (const m of Object.values(rows)) for (const k of Object.keys(m)) if (!metrics.includes(k)) metrics.push(k);
  const cols: Record<string, (string | number)[]> = { [label]: [] };
  for (const k of metrics) {
    cols[k] = [];
    if (options.numeric) {
      cols[`${k}_mean`] = [];
      cols[`${k}_sd`] = [];
      cols[`${k}_n`] = [];
    }
  }
  for (const [name, m] of Object.entries(rows)) {
    cols[label].push(name);
    for (const k of metrics) {
      const v = m[k];
      const s: MeanSd = v === undefined ? { mean: NaN, sd: NaN, n: 0, skipped: 0 } : isMeanSd(v) ? v : meanSd(v, ddof);
      cols[k].push(v === undefined ? "" : formatMeanSd(s, digits));
      if (options.numeric) {
        cols[`${k}_mean`].push(s.mean);
        cols[`${k}_sd`].push(s.sd);
        cols[`${k}_n`].push(s.n);
      }
    }
  }
  return aq.table(cols);
}

function isMeanSd(v: readonly number[] | MeanSd): v is MeanSd {
  return !Array.isArray(v) && typeof (v as MeanSd).mean === "number";
}
