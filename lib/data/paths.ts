/**
 * Where the data layer finds the shared public data (`../shared/data/` beside the checkout).
 *
 * Resolution order: an explicit argument, then the environment variable
 * `GRAPH_MMM_SHARED_DATA` (the shared data folder itself), then `<repo root>/../shared/data`.
 * The repository root is found from this compiled file's location (build/lib/data/ -> three
 * levels up), so it works from tests, scripts and notebooks alike.
 */
import { join, resolve } from "node:path";

/** The repository root (this file compiles to build/lib/data/paths.js). */
export const DATA_REPO_ROOT = resolve(__dirname, "..", "..", "..");

/** The shared data folder: `GRAPH_MMM_SHARED_DATA`, or `<repo root>/../shared/data`. */
export function sharedDataRoot(): string {
  const env = process.env.GRAPH_MMM_SHARED_DATA;
  return resolve(env && env !== "" ? env : join(DATA_REPO_ROOT, "..", "shared", "data"));
}

/** A folder or file under the shared data folder, unless `explicit` is given (then that, resolved). */
export function sharedDataPath(relative: string, explicit?: string): string {
  return explicit !== undefined ? resolve(explicit) : join(sharedDataRoot(), relative);
}

/** The project's own small example data (`data/example/` in the repository). */
export function exampleDataDir(): string {
  return join(DATA_REPO_ROOT, "data", "example");
}
