/** Experiments: the shared protocol, the variants, the measures, and each study as a configuration on top. */
export * from "./protocol";
export * from "./measures";
export * from "./variants";
export * from "./causalmmm";
export * from "./dice";
export * from "./bypass";
export * from "./swap";
export * from "./jobs";
export * from "./stress";
export * from "./diagnose";
export * from "./budget";
export * from "./choice";
export * from "./recovery";
export * from "./bypass-map";
