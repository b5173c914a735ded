/**
 * The bypass map (STUDY.md claim 7, beyond the paper): over the target's parent share x the
 * confounding strength of the bypass-prone benchmark, each decoder's target MSE@7 relative to
 * the oracle decoder's and its relative error against the true influence. It shows where
 * forecast accuracy stops telling decoders apart and where their attribution collapses.
 * Every (cell, seed) is one bypass job of the study runner (lib/experiments/jobs.ts), on its own
 * panel.
 */
import type { BypassProneInput } from "../data/bypass-prone";
import { type MeanSd, meanSd } from "../diagnostics/stability";
import { type RunOptions, runJobs } from "../runner";
import { type BypassConfig, type BypassDecoder, type BypassSeedResult } from "./bypass";
import { CLAIM_BOUNDS } from "./measures";
import { type PanelSpec, bypassSeedJob, panelSpecForSeed } from "./jobs";
import { VARIANT_LABELS } from "./protocol";

export interface BypassMapConfig {
  /** The target's parent shares (rows of the map). */
  targetShares: number[];
  /** Confounding strengths gamma of the latent demand in the target (columns). */
  confounding: number[];
  seeds: number[];
  /** The panel's other settings (units, steps, base seed, the other routes). */
  panel: BypassProneInput;
  /** Decoders compared; the oracle is the reference and always runs. */
  decoders: BypassDecoder[];
  bypass: Partial<Omit<BypassConfig, "decoders">>;
}

export const BYPASS_MAP_DEFAULTS: BypassMapConfig = {
  targetShares: [0.05, 0.25, 0.5],
  confounding: [0, 0.5, 1],
  seeds: [1, 2, 3],
  panel: { seed: 7 },
  decoders: ["no-graph", "full-graph", "high-capacity"],
  bypass: {},
};

/** One decoder in one cell of the map: means and SDs over seeds. */
export interface BypassMapEntry {
  targetShare: number;
  confounding: number;
  decoder: BypassDecoder;
  /** Target MSE@7 / the oracle decoder's, per seed then averaged. */
  mseRatio: MeanSd;
  /** Relative error of direct AR-CIG against the true influence. */
  relativeError: MeanSd;
  /** The same on the target's column. */
  targetRelativeError: MeanSd;
}

export interface BypassMapResult {
  config: BypassMapConfig;
  /** Every decoder of every cell, the oracle included (its MSE ratio is 1 by definition). */
  entries: BypassMapEntry[];
}

/** The panel spec of one cell of the map. */
export function bypassMapSpec(c: Pick<BypassMapConfig, "panel">, targetShare: number, confounding: number): PanelSpec {
  return { generator: "bypass-prone", input: { ...c.panel, targetShare, confounding } };
}

/** Runs the map: every (cell, seed) as one cached job, all submitted at once. */
export async function runBypassMap(config: Partial<BypassMapConfig> = {}, options: RunOptions = {}): Promise<BypassMapResult> {
  const c: BypassMapConfig = { ...BYPASS_MAP_DEFAULTS, ...config };
  const decoders: BypassDecoder[] = [...new Set<BypassDecoder>([...c.decoders, "oracle"])];
  const cells = c.targetShares.flatMap((targetShare) => c.confounding.map((confounding) => ({ targetShare, confounding })));
  const jobs = cells.flatMap((cell) =>
    c.seeds.map((seed) =>
      bypassSeedJob({ panel: panelSpecForSeed(bypassMapSpec(c, cell.targetShare, cell.confounding), seed), seed, config: { ...c.bypass, decoders } }),
    ),
  );
  const results: BypassSeedResult[] = await runJobs(jobs, { label: "bypass map", ...options });
  const entries: BypassMapEntry[] = [];
  cells.forEach((cell, k) => {
    const seeds = results.slice(k * c.seeds.length, (k + 1) * c.seeds.length);
    for (const d of decoders) {
      const rows = seeds.map((r) => ({ row: r.rows.find((x) => x.decoder === d)!, oracle: r.rows.find((x) => x.decoder === "oracle")! }));
      entries.push({
        ...cell,
        decoder: d,
        mseRatio: meanSd(rows.map((x) => x.row.mse7Target / x.oracle.mse7Target)),
        relativeError: meanSd(rows.map((x) => x.row.relativeError)),
        targetRelativeError: meanSd(rows.map((x) => x.row.relativeErrorTarget)),
      });
    }
  });
  return { config: c, entries };
}

/** One measure of one decoder as a matrix over the map: rows target shares, columns confounding strengths. */
export function bypassMapMatrix(result: BypassMapResult, decoder: BypassDecoder, measure: "mseRatio" | "relativeError" | "targetRelativeError"): number[][] {
  const { targetShares, confounding } = result.config;
  return targetShares.map((s) =>
    confounding.map((g) => result.entries.find((e) => e.decoder === decoder && e.targetShare === s && e.confounding === g)?.[measure].mean ?? NaN),
  );
}

/**
 * The map in words, from its numbers (Markdown): the cells where every decoder forecasts within
 * 10% of the oracle (forecast accuracy no longer tells them apart), and the cells where even the
 * oracle decoder's relative error reaches the bypass bound (attribution collapses for all).
 */
export function bypassMapReading(result: BypassMapResult): string {
  const { targetShares, confounding, decoders, seeds } = result.config;
  const B = CLAIM_BOUNDS;
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : "n/a");
  const cellName = (s: number, g: number) => `(share ${s}, confounding ${g})`;
  const indistinct: string[] = [];
  const collapsed: string[] = [];
  for (const s of targetShares)
    for (const g of confounding) {
      const at = (d: BypassDecoder) => result.entries.find((e) => e.decoder === d && e.targetShare === s && e.confounding === g)!;
      if (decoders.every((d) => at(d).mseRatio.mean <= B.forecastRatio)) indistinct.push(cellName(s, g));
      if (at("oracle").relativeError.mean >= B.bypassError) collapsed.push(cellName(s, g));
    }
  const total = targetShares.length * confounding.length;
  const ranges = decoders.map((d) => {
    const v = result.entries.filter((e) => e.decoder === d);
    const r = v.map((e) => e.mseRatio.mean);
    const e = v.map((x) => x.relativeError.mean);
    return `${VARIANT_LABELS[d]}: MSE@7 ratio ${f(Math.min(...r))}-${f(Math.max(...r))}, relative error ${f(Math.min(...e))}-${f(Math.max(...e))}`;
  });
  const oracleErr = result.entries.filter((e) => e.decoder === "oracle").map((e) => e.relativeError.mean);
  return [
    `Over ${total} cells (${seeds.length} seed${seeds.length === 1 ? "" : "s"} each, every seed its own panel): ${ranges.join("; ")}; ` +
      `the oracle decoder's relative error ${f(Math.min(...oracleErr))}-${f(Math.max(...oracleErr))}.`,
    "",
    `**Forecast accuracy does not tell the decoders apart** (all of ${decoders.map((d) => VARIANT_LABELS[d]).join(", ")} within ` +
      `${Math.round((B.forecastRatio - 1) * 100)}% of the oracle) in ${indistinct.length} of ${total} cells` +
      (indistinct.length ? `: ${indistinct.join(", ")}.` : "."),
    "",
    `**Attribution collapses for the oracle too** (its relative error at least ${B.bypassError}) in ${collapsed.length} of ${total} cells` +
      (collapsed.length ? `: ${collapsed.join(", ")}.` : "."),
  ].join("\n");
}
