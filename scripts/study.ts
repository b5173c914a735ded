/**
 * `npm run study`: executes the study's notebooks in order at one scale and writes their
 * figures (paper: `figures/`; smoke: `build/smoke/figures/`), then the folder's index
 * (`README.md`: each figure with its caption and notebook, each table). The options are in
 * {@link USAGE} (`--help`).
 */
import { basename } from "node:path";
import { writeFiguresIndex } from "../lib/runner/figure-index";
import { QUEUE_ENV } from "../lib/runner/queue-url";
import { SCALES, SHARE_TRAINING_ENV, type Scale, figuresDir } from "../lib/study";
import { UsageError, choiceOption, listOption, parseCommandLine, queueUrlOption, reportUsageError } from "./cli";
import { NotebookError, listNotebooks, runNotebooks } from "./notebooks";

const USAGE = `Usage: npm run study [-- options]    (or: node build/scripts/study.js [options])

Executes the study's notebooks in order through Jupyter at one scale, writes their figures
(paper: figures/; smoke: build/smoke/figures/) and then that folder's index README.md.
Executed copies go to build/notebooks/<scale>/; at paper scale each is also published over its
notebook in notebooks/ (outputs kept, figures as PNG, the run's commit in its metadata), so that
the committed notebooks show the results. Options take "--name value" or "--name=value".

Options:
  --scale smoke|paper     the scale (default: $STUDY_SCALE, else paper); smoke takes minutes,
                          paper several hours on a 2-core machine (README: per notebook)
  --only 00,02            only the notebooks whose file name contains one of these words
                          (default: every notebook)
  --queue redis://H:P     send the experiments' jobs to the job queue in Redis at H:P, for
                          \`npm run worker\` processes on any machines (default: $STUDY_QUEUE,
                          else run them here)
  -h, --help              print this text and exit

Example:
  npm run study -- --scale=smoke --only 00,02
`;

const OPTIONS = { scale: { type: "string" }, only: { type: "string" }, queue: { type: "string" } } as const;

async function main(): Promise<number> {
  const args = parseCommandLine({ name: "study", usage: USAGE, options: OPTIONS });
  if (!args) return 0;
  const fromEnv = process.env.STUDY_SCALE;
  if (args.scale === undefined && fromEnv && !(SCALES as readonly string[]).includes(fromEnv)) {
    throw new UsageError(`STUDY_SCALE="${fromEnv}" is not a scale: use ${SCALES.join(" or ")} (or pass --scale)`);
  }
  const scale: Scale = choiceOption(args.scale, "scale", SCALES, fromEnv ? (fromEnv as Scale) : "paper");
  const only = listOption(args.only) ?? [];
  if (args.only !== undefined && only.length === 0) throw new UsageError(`--only needs at least one word, got "${args.only}"`);
  const missing = only.filter((w) => listNotebooks([w]).length === 0);
  if (missing.length > 0) {
    throw new UsageError(
      `--only ${missing.join(",")}: no notebook's name contains ${missing.length > 1 ? "these words" : "it"} (notebooks: ${listNotebooks()
        .map((f) => basename(f, ".ipynb"))
        .join(", ")})`,
    );
  }
  // the notebooks' kernels inherit it, and their runJobs send to the queue
  if (args.queue !== undefined) process.env[QUEUE_ENV] = queueUrlOption(args.queue);
  // notebooks 05 and 07 then reuse the trainings of notebook 04 (STUDY_SHARE_TRAINING=0 retrains)
  process.env[SHARE_TRAINING_ENV] ??= "1";
  const started = Date.now();
  const runs = await runNotebooks({ scale, only, publish: scale === "paper" });
  const total = (Date.now() - started) / 1000;
  const index = writeFiguresIndex(figuresDir(scale));
  for (const r of runs) process.stdout.write(`${r.notebook.padEnd(28)} ${r.seconds.toFixed(1).padStart(8)} s\n`);
  process.stdout.write(`study (${scale}): ${runs.length} notebooks in ${total.toFixed(1)} s\n`);
  process.stdout.write(`index of ${index.listing.figures.length} figures and ${index.listing.tables.length} tables: ${index.file}\n`);
  return 0;
}

main()
  .then((code) => process.exit(code))
  .catch((err: unknown) => {
    if (err instanceof UsageError) process.exit(reportUsageError("study", err));
    process.stderr.write(`${err instanceof NotebookError ? err.message : (err as Error).stack}\n`);
    process.exit(1);
  });
