/**
 * Analyses of trained models beyond the diagnostics (what a forecaster implies for budgets, and
 * what an allocation truly earns), model-agnostic through the `Forecaster` contract
 * (lib/core/forecaster.ts):
 *
 * - budget: response curves and allocations by intervention on a channel's spend over a
 *   rollout, the capped-simplex projection and the projected-gradient budget optimiser, and the
 *   glue that optimises a forecaster's allocation under a total budget;
 * - truth: what an allocation really earns under the process that generated a panel;
 * - true-influence: the generating process's own AR-CIG (direct and total), against which the
 *   decoders' influence agreement is measured (lib/diagnostics/agreement.ts).
 */
export * from "./budget";
export * from "./truth";
export * from "./true-influence";
