/**
 * The study runner's library side: jobs registered by kind, run once each in child processes
 * (one per core) and cached on disk by their configuration; and the figures index.
 */
export * from "./json";
export * from "./registry";
export * from "./cache";
export * from "./run";
export * from "./figure-index";
