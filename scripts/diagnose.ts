/**
 * `npm run diagnose`: DICE Stage 1/2 and the reference decoders on your own long-format CSV panel
 * (lib/data/csv.ts gives the format), with the reported graph (Stage 1's or a baseline's, chosen
 * by held-out forecasts), MSE@M and AR-CIG diagnostics written to a folder (lib/experiments/diagnose.ts). The options are in {@link USAGE} (`--help`).
 * Progress goes to stderr; bad input ends with a one-line message and exit code 2, and nothing
 * is written.
 */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { isAbsolute, relative, resolve } from "node:path";
import { initBackend } from "../lib/backend";
import { type RolesSpec, readPanelCsv, readSidecar, sidecarPath } from "../lib/data/csv";
import { DataError } from "../lib/data/errors";
import { diagnosePanel, writeDiagnosis } from "../lib/experiments/diagnose";
import { closeRenderer } from "../lib/plot/render";
import { UsageError, choiceOption, listOption, parseCommandLine, positiveIntOption } from "./cli";

const USAGE = `Usage: npm run diagnose -- --data panel.csv --target NAME --out DIR [options]
       (or: node build/scripts/diagnose.js ...)

Fits DICE Stage 1 and 2, the reference decoders and two cheap graph baselines (pooled linear
Granger, PCMCI) on a long-format CSV panel (unit,time,<nodes>,ctx_*; see lib/data/csv.ts).
The graph reported (graph.csv) is the candidate whose ranking held-out forecasts of the funnel
and target support best (PCMCI's when forecasts cannot tell the best candidates apart);
every candidate is in graphs/, per-unit graphs (graph-units.csv) only where the units' own
graphs forecast better than the shared one. Writes MSE@M and AR-CIG diagnostics and the choice's
evidence and warnings (diagnostics.json) and three figures to DIR. A true graph, when given, is
scored (never used). Options take "--name value" or "--name=value".

Required:
  --data FILE             the panel CSV
  --target NAME           the target column
  --out DIR               the output folder (must not exist, unless --force)

Options:
  --graph FILE            a true graph as an edge list (source,target), scored against
                          (default: the roles sidecar's, or none); lagged feedback (a
                          cycle) is allowed, a self-loop is not
  --channels a,b,c        channel columns (default: the roles sidecar <data>.roles.json)
  --intermediates m,n     intermediate columns (default: the sidecar's, or none)
  --unit-column NAME      the unit column (default "unit")
  --time-column NAME      the time column (default "time")
  --context-prefix P      context columns' prefix (default "ctx_")
  --ignore col1,col2      columns not to read (a blank header, e.g. a pandas index column, is
                          named by a leading comma: --ignore ,col1)
  --log1p none|channels|all   transform before standardising (default none; raw spend:
                          channels or all)
  --scaling pooled|unit   standardise by one training mean / SD per node over all units
                          (pooled, default), or each unit's series by its own
  --epochs N              DICE Stage 1 epochs (default 200)
  --decoder-epochs N      epochs of each decoder (default 15)
  --eval-units N|all      units the decoders are evaluated on, evenly spaced (default 40;
                          influence costs units x nodes^2 rollouts)
  --roles                 constrain Stage 1 and the baselines by the roles: no edge into a
                          channel, none out of the target
  --unit-graphs auto|always   write Stage 1's per-unit graphs (graph-units.csv) only where
                          per-unit evidence supports them (auto, default) or always
  --seed N                seed of every model (default 1)
  --workers N             child processes the decoders train in, beside Stage 1 (default:
                          the number of cores; 0: every decoder in this process, one after
                          another; the results are the same)
  --force                 replace DIR if it exists (only once the new results are complete)
  -h, --help              print this text and exit

Example:
  npm run diagnose -- --data data/example/panel.csv --target target --out results/example --epochs=50
`;

const OPTIONS = {
  data: { type: "string" },
  graph: { type: "string" },
  target: { type: "string" },
  out: { type: "string" },
  channels: { type: "string" },
  intermediates: { type: "string" },
  "unit-column": { type: "string" },
  "time-column": { type: "string" },
  "context-prefix": { type: "string" },
  ignore: { type: "string" },
  log1p: { type: "string" },
  scaling: { type: "string" },
  epochs: { type: "string" },
  "decoder-epochs": { type: "string" },
  "eval-units": { type: "string" },
  roles: { type: "boolean" },
  "unit-graphs": { type: "string" },
  seed: { type: "string" },
  workers: { type: "string" },
  force: { type: "boolean" },
} as const;

/** `--ignore` names; a leading comma adds the blank name (a CSV whose first header cell is empty). */
function ignored(v: string | undefined): string[] {
  if (v === undefined) return [];
  const names = v.split(",").map((x) => x.trim());
  return names.filter((n, k) => n !== "" || k === 0);
}

async function main(): Promise<number> {
  const args = parseCommandLine({ name: "diagnose", usage: USAGE, options: OPTIONS });
  if (!args) return 0;
  const { data, out, target, graph } = args;
  if (data === undefined) throw new UsageError("--data panel.csv is required");
  if (out === undefined) throw new UsageError("--out DIR is required");
  if (target === undefined) throw new UsageError("--target NAME is required");
  // every value is checked before any file is read or a model is built
  const log1p = choiceOption(args.log1p, "log1p", ["none", "channels", "all"] as const, "none");
  const scaling = choiceOption(args.scaling, "scaling", ["pooled", "unit"] as const, "pooled");
  const epochs = positiveIntOption(args.epochs, "epochs", 200);
  const decoderEpochs = positiveIntOption(args["decoder-epochs"], "decoder-epochs", 15);
  const evalUnits = args["eval-units"] === "all" ? null : positiveIntOption(args["eval-units"], "eval-units", 40);
  const unitGraphs = choiceOption(args["unit-graphs"], "unit-graphs", ["auto", "always"] as const, "auto");
  const seed = positiveIntOption(args.seed, "seed", 1);
  const workers = args.workers === "0" ? 0 : positiveIntOption(args.workers, "workers", availableParallelism());
  const force = args.force === true;
  if (!existsSync(data)) throw new UsageError(`${data}: no such file`);
  if (graph !== undefined && !existsSync(graph)) throw new UsageError(`${graph}: no such file`);
  if (existsSync(out) && !force) throw new UsageError(`${out} exists: choose another --out or pass --force`);
  const inside = (file: string) => !relative(resolve(out), resolve(file)).startsWith("..") && !isAbsolute(relative(resolve(out), resolve(file)));
  if (inside(data) || (graph !== undefined && inside(graph))) throw new UsageError(`--out ${out} contains the input data: choose another --out`);
  // roles: --channels, else the sidecar; the target must agree with the sidecar's
  const side = existsSync(sidecarPath(data)) ? readSidecar(sidecarPath(data)) : undefined;
  const ownChannels = args.channels !== undefined;
  const channels = listOption(args.channels) ?? side?.channels;
  if (!channels) throw new UsageError(`give --channels (no roles sidecar ${sidecarPath(data)})`);
  if (side && side.target !== target && !ownChannels)
    throw new UsageError(
      `--target ${target} differs from the sidecar's target "${side.target}" (${sidecarPath(data)}); pass --channels to set the roles yourself`,
    );
  const roles: RolesSpec = { target, channels, intermediates: listOption(args.intermediates) ?? (ownChannels ? [] : (side?.intermediates ?? [])) };
  const log = (line: string) => process.stderr.write(`${line}\n`);
  await initBackend(undefined, log);
  // with a sidecar (and no --channels) its roles and its unit -> graph map are used; its own
  // edge file is the truth unless --graph names another
  const useSidecar = side !== undefined && !ownChannels;
  const panel = readPanelCsv(data, {
    ...(useSidecar ? {} : { roles, sidecar: false as const }),
    graphFile: graph,
    // the truth is only scored: a time-series graph may hold lagged feedback (a cycle)
    requireDag: false,
    contextPrefix: args["context-prefix"] ?? "ctx_",
    ignoreColumns: ignored(args.ignore),
    unitColumn: args["unit-column"] ?? "unit",
    timeColumn: args["time-column"] ?? "time",
    minSteps: 40,
  });
  const result = await diagnosePanel(panel, {
    scaler: { log1p, scope: scaling === "unit" ? "unit-node" : "node" },
    stage1: { fit: { epochs } },
    decoder: { fit: { epochs: decoderEpochs } },
    evalUnits,
    roles: args.roles === true,
    unitGraphs,
    seed,
    workers,
    log,
  });
  const files = await writeDiagnosis(result, out, { force });
  log(`diagnose: reported graph: ${result.graph.label}${result.graph.perUnit ? " (per unit)" : ""}`);
  for (const w of result.graph.warnings) process.stdout.write(`warning: ${w}\n`);
  log(`diagnose: done in ${result.seconds.toFixed(1)} s; wrote ${files.join(", ")}`);
  return 0;
}

main()
  .then(async (code) => {
    await closeRenderer();
    process.exit(code);
  })
  .catch(async (err: unknown) => {
    await closeRenderer().catch(() => {});
    const bad = err instanceof UsageError || err instanceof DataError;
    const msg = (err as Error).message.split("\n")[0];
    process.stderr.write(`diagnose: ${bad ? "" : "failed: "}${msg}\n`);
    process.exit(bad ? 2 : 1);
  });
