/** Messages between the runner (run.ts) and its child processes (worker.ts). */

/** Parent -> child: run one job and store its result. */
export interface RunMessage {
  type: "run";
  kind: string;
  /** The configuration as written by `encodeJson` (keeps NaN). */
  config: string;
  /** The key the parent computed; the child checks that its own registry agrees. */
  key: string;
  /** The module that registers the kind. */
  module: string;
  cacheDir: string;
  /** Tensor backend to ask for when the job uses one (a name, "auto"); null: `GRAPH_MMM_BACKEND` or auto. */
  backend: string | null;
}

/** Child -> parent. */
export type ChildMessage = { type: "done"; seconds: number; file: string } | { type: "error"; error: { name: string; message: string; stack: string } };
