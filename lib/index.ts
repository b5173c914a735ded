/**
 * graph-mmm: the library of the graph-based neural MMM study.
 *
 * Layers: data (panels, loaders, simulation) -> models -> diagnostics (analysis) -> plot.
 * Notebooks import this package by name (`import * as mmm from "graph-mmm"`).
 */
export { tf } from "./tf";
export * from "./backend";
export * from "./study";
export * from "./rng";
export * from "./graph";
export * from "./notebook";
export * from "./progress";
export * from "./tables";
export * as core from "./core";
export * as plot from "./plot";
export * as diagnostics from "./diagnostics";
export * as models from "./models";
export * as train from "./train";
export * as experiments from "./experiments";
export * as runner from "./runner";
export * as analysis from "./analysis";
export * from "./data/panel";
