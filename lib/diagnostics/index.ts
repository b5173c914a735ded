/**
 * Diagnostics of the study (STUDY.md, "Measures"), model-agnostic: every model implements
 * {@link Forecaster} (lib/core/forecaster.ts, re-exported here) and is judged by this one set of code.
 *
 * - ranking: AUROC, AP, nAUPRC (scikit-learn conventions), graph scoring per unit / mean / pooled;
 * - mse: MSE@M with rolling origins;
 * - influence: CIG, direct and total AR-CIG, and their scores against a graph;
 * - agreement: a model's influence against the true influence (rank correlation, relative error),
 *   over all pairs and on the target's column, and target-column scores against a graph;
 * - swap: frozen-decoder graph swap with degree-preserving rewirings as the null;
 * - stability: Final-20 AUROC, mean +/- SD over seeds, arquero summary tables;
 * - linear-var: the hand-built linear VAR forecaster, the analytic reference;
 * - windows: rolling origins and history windows shared by MSE@M and the influence measures.
 */
export * from "../core/forecaster";
export * from "./ranking";
export type { SeriesData, WindowConfig, WindowPlan } from "./windows";
export { DEFAULT_WINDOWS, planWindows } from "./windows";
export * from "./linear-var";
export * from "./mse";
export * from "./influence";
export * from "./agreement";
export * from "./swap";
export * from "./stability";
export * from "./evidence";
