/**
 * The data layer of the study (STUDY.md, "Notation" and "Data"): the panel type and its
 * validation, splits and scaling; loaders (CausalMMM shipped data, long CSV, public panels);
 * simulators (VAR-DAG, sparse target, R/d/T swaps, rawlog stress, bypass-prone); the graph-worth
 * record of generated panels; an OLS VAR check.
 */
export * from "./errors";
export * from "./panel";
export * from "./paths";
export * from "./npy";
export * from "./causalmmm";
export * from "./csv";
export * from "./public";
export * from "./simulate";
export * from "./bypass-prone";
export * from "./graph-worth";
export * from "./ols";
export * from "./family";
