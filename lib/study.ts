/**
 * Study-wide settings that notebooks and scripts read: the scale of a run and where its
 * outputs go. The notebook runner sets them through the environment:
 *
 * - `STUDY_SCALE`: `smoke` (tests, CI, workshops: minutes) or `paper` (full figures).
 * - `STUDY_FIGURES_DIR`: where figures are exported; by default `figures/` for `paper` and
 *   `build/smoke/figures/` for `smoke`, so that a smoke run never overwrites paper figures.
 * - `STUDY_SHARE_TRAINING`: `1` shares identical trainings across notebooks and jobs
 *   (lib/experiments/trained.ts); the study runner, the lab and the workers set it.
 */
import { join, resolve } from "node:path";

export type Scale = "smoke" | "paper";
export const SCALES: readonly Scale[] = ["smoke", "paper"];

/** The repository root (this file is compiled to build/lib/study.js). */
export const REPO_ROOT = resolve(__dirname, "..", "..");

/** Parses a scale name; throws with the allowed values on anything else. */
export function parseScale(value: string | undefined, fallback: Scale = "smoke"): Scale {
  if (value === undefined || value === "") return fallback;
  if ((SCALES as readonly string[]).includes(value)) return value as Scale;
  throw new Error(`STUDY_SCALE="${value}" is not a scale: use ${SCALES.join(" or ")}`);
}

/** The scale of this run (`STUDY_SCALE`, default `smoke`). */
export function studyScale(): Scale {
  return parseScale(process.env.STUDY_SCALE);
}

/** Picks the value for the current scale: `byScale({ smoke: 2, paper: 5 })`. */
export function byScale<T>(values: Record<Scale, T>, scale: Scale = studyScale()): T {
  return values[scale];
}

/** The folder figures are exported to for a scale. */
export function figuresDir(scale: Scale = studyScale()): string {
  const fromEnv = process.env.STUDY_FIGURES_DIR;
  if (fromEnv) return resolve(fromEnv);
  return scale === "paper" ? join(REPO_ROOT, "figures") : join(REPO_ROOT, "build", "smoke", "figures");
}

/** `1`: identical trainings are shared across notebooks and jobs (lib/experiments/trained.ts). */
export const SHARE_TRAINING_ENV = "STUDY_SHARE_TRAINING";

/** Whether trainings are shared (`STUDY_SHARE_TRAINING=1`). */
export function sharingTrainings(): boolean {
  return process.env[SHARE_TRAINING_ENV] === "1";
}
