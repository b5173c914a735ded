/**
 * The study's experiments as runner jobs (lib/runner): each seed of a benchmark is one job,
 * identified by its JSON configuration, cached on disk, and run in a child process, one per
 * core. A job rebuilds its data from a {@link PanelSpec} (generators are seeded and
 * deterministic), so that its configuration is small and fully identifies its result.
 */
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { type SparseTargetInput, type VarDagInput, generateSparseTarget, generateVarDag } from "../data/simulate";
import type { TimeSplitConfig } from "../data/panel";
import { type RunOptions, registerJob, runJobs } from "../runner";
import { type BypassConfig, type BypassSeedResult, type TimePanel, bypassSeed, prepareTimePanel } from "./dice";
import { type SwapSeedResult, type SwapStudyConfig, swapSeed } from "./swap";

/** A generated panel, standardised on its training window: what a job rebuilds its data from. */
export interface PanelSpec {
  generator: "sparse-target" | "var-dag";
  input: SparseTargetInput | VarDagInput;
  split?: Partial<TimeSplitConfig>;
}

/**
 * The version of every job here: a hash of the compiled library (every .js file under
 * build/lib), so that any change of code invalidates cached results instead of silently
 * reusing them.
 */
export const LIBRARY_VERSION: string = (() => {
  const root = join(__dirname, "..");
  const files: string[] = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d).sort()) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (f.endsWith(".js")) files.push(p);
    }
  };
  walk(root);
  const h = createHash("sha256");
  for (const f of files) h.update(relative(root, f)).update("\0").update(readFileSync(f)).update("\0");
  return h.digest("hex").slice(0, 16);
})();

const panels = new Map<string, TimePanel>();

/** The time panel of a spec (built once per process). */
export function panelFromSpec(spec: PanelSpec): TimePanel {
  const key = JSON.stringify(spec);
  let tp = panels.get(key);
  if (!tp) {
    const sim = spec.generator === "sparse-target" ? generateSparseTarget(spec.input as SparseTargetInput) : generateVarDag(spec.input);
    tp = prepareTimePanel(sim.panel, spec.split ?? {});
    panels.set(key, tp);
  }
  return tp;
}

export interface BypassSeedJob {
  panel: PanelSpec;
  seed: number;
  config: Partial<BypassConfig>;
}

export const bypassSeedJob = registerJob<BypassSeedJob, BypassSeedResult>({
  kind: "bypass-seed",
  version: LIBRARY_VERSION,
  module: __filename,
  run: (c) => bypassSeed(panelFromSpec(c.panel), c.seed, { ...c.config, stage1: { ...c.config.stage1, fit: { ...c.config.stage1?.fit, label: null } }, decoder: { ...c.config.decoder, fit: { ...c.config.decoder?.fit, label: null } } }),
});

export interface SwapSeedJob {
  panel: PanelSpec;
  seed: number;
  config: Partial<SwapStudyConfig>;
}

export const swapSeedJob = registerJob<SwapSeedJob, SwapSeedResult>({
  kind: "swap-seed",
  version: LIBRARY_VERSION,
  module: __filename,
  run: (c) => swapSeed(panelFromSpec(c.panel), c.seed, { ...c.config, stage1: { ...c.config.stage1, fit: { ...c.config.stage1?.fit, label: null } }, decoder: { ...c.config.decoder, fit: { ...c.config.decoder?.fit, label: null } } }),
});

/** The bypass benchmark over seeds, one cached job per seed, in worker processes. */
export function runBypass(panel: PanelSpec, seeds: readonly number[], config: Partial<BypassConfig> = {}, options: RunOptions = {}): Promise<BypassSeedResult[]> {
  return runJobs(seeds.map((seed) => bypassSeedJob({ panel, seed, config })), { label: "bypass benchmark", ...options });
}

/** The graph-swap study over seeds, one cached job per seed, in worker processes. */
export function runSwap(panel: PanelSpec, seeds: readonly number[], config: Partial<SwapStudyConfig> = {}, options: RunOptions = {}): Promise<SwapSeedResult[]> {
  return runJobs(seeds.map((seed) => swapSeedJob({ panel, seed, config })), { label: "graph swap", ...options });
}
