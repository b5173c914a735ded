/** Experiments: data + model + training + diagnostics wired together for the notebooks. */
export * from "./causalmmm";
export * from "./dice";
export * from "./swap";
export * from "./jobs";
export * from "./stress";
export * from "./diagnose";
export * from "./budget";
