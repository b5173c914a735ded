/**
 * Where the data layer finds the data the project ships or fetches: the repository's `data/`
 * folder, so that a clone alone has everything (the licensed panels are in git; the CausalMMM
 * files are placed in `data/causalmmm-sim/` by `npm run data`).
 *
 * Resolution order: an explicit argument, then the environment variable `GRAPH_MMM_DATA_DIR`
 * (a whole data folder laid out like `data/`), then `<repo root>/data`. The repository root is
 * `REPO_ROOT` of lib/study.ts, so this works from tests, scripts and notebooks alike.
 */
import { join, resolve } from "node:path";
import { REPO_ROOT } from "../study";

/** The data folder: `GRAPH_MMM_DATA_DIR`, or `<repo root>/data`. */
export function dataRoot(): string {
  const env = process.env.GRAPH_MMM_DATA_DIR;
  return resolve(env && env !== "" ? env : join(REPO_ROOT, "data"));
}

/** A folder or file under the data folder, unless `explicit` is given (then that, resolved). */
export function dataPath(relative: string, explicit?: string): string {
  return explicit !== undefined ? resolve(explicit) : join(dataRoot(), relative);
}

/** The project's own small example data (`data/example/` in the repository). */
export function exampleDataDir(): string {
  return join(REPO_ROOT, "data", "example");
}
