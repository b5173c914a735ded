/**
 * Where the data layer finds the shared public data (`../shared/data/` beside the checkout).
 *
 * Resolution order: an explicit argument, then the environment variable
 * `GRAPH_MMM_SHARED_DATA` (the shared data folder itself), then `<repo root>/../shared/data`.
 * The repository root is `REPO_ROOT` of lib/study.ts, so this works from tests, scripts and
 * notebooks alike.
 */
import { join, resolve } from "node:path";
import { REPO_ROOT } from "../study";

/** The shared data folder: `GRAPH_MMM_SHARED_DATA`, or `<repo root>/../shared/data`. */
export function sharedDataRoot(): string {
  const env = process.env.GRAPH_MMM_SHARED_DATA;
  return resolve(env && env !== "" ? env : join(REPO_ROOT, "..", "shared", "data"));
}

/** A folder or file under the shared data folder, unless `explicit` is given (then that, resolved). */
export function sharedDataPath(relative: string, explicit?: string): string {
  return explicit !== undefined ? resolve(explicit) : join(sharedDataRoot(), relative);
}

/** The project's own small example data (`data/example/` in the repository). */
export function exampleDataDir(): string {
  return join(REPO_ROOT, "data", "example");
}
