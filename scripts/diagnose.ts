/**
 * `npm run diagnose -- --data panel.csv [--graph edges.csv] --target NAME --out DIR [options]`:
 * DICE Stage 1/2 and the reference decoders on your own long-format CSV panel (see
 * lib/data/csv.ts for the format), with the learned graph, MSE@M and AR-CIG diagnostics written to
 * DIR (lib/experiments/diagnose.ts). Progress goes to stderr; bad input ends with a one-line
 * message and exit code 2, and nothing is written.
 *
 * Options:
 *   --channels a,b,c        channel columns (default: the roles sidecar <data>.roles.json)
 *   --intermediates m,n     intermediate columns (default: the sidecar's, or none)
 *   --unit-column unit      the unit column (default "unit")
 *   --time-column time      the time column (default "time")
 *   --context-prefix ctx_   context columns' prefix
 *   --ignore col1,col2      columns not to read (a blank header, e.g. a pandas index column, is
 *                           named by a leading comma: --ignore ,col1)
 *   --log1p none|channels|all   transform before standardising (raw spend: channels or all)
 *   --epochs N              DICE Stage 1 epochs (default 200)
 *   --decoder-epochs N      epochs of each decoder (default 15)
 *   --eval-units N|all      units the decoders are evaluated on, evenly spaced (default 40;
 *                           influence costs units x nodes^2 rollouts)
 *   --roles                 constrain Stage 1 by the roles: no edge into a channel, none out of the target
 *   --seed N                seed of every model (default 1)
 *   --force                 replace DIR if it exists
 */
import { existsSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import { initBackend } from "../lib/backend";
import { type RolesSpec, readPanelCsv, readSidecar, sidecarPath } from "../lib/data/csv";
import { DataError } from "../lib/data/errors";
import { diagnosePanel, writeDiagnosis } from "../lib/experiments/diagnose";
import { closeRenderer } from "../lib/plot/render";

class UsageError extends Error {}

function parseArgs(argv: string[]): Map<string, string | true> {
  const out = new Map<string, string | true>();
  const known = ["data", "graph", "target", "out", "channels", "intermediates", "unit-column", "time-column", "context-prefix", "ignore", "log1p", "epochs", "decoder-epochs", "eval-units", "roles", "seed", "force"];
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k];
    if (!a.startsWith("--")) throw new UsageError(`unexpected argument "${a}" (options start with --)`);
    const name = a.slice(2);
    if (!known.includes(name)) throw new UsageError(`unknown option --${name} (known: ${known.map((n) => `--${n}`).join(", ")})`);
    if (name === "force" || name === "roles") out.set(name, true);
    else {
      const v = argv[k + 1];
      if (v === undefined || v.startsWith("--")) throw new UsageError(`--${name} needs a value`);
      out.set(name, v);
      k++;
    }
  }
  return out;
}

const list = (v: string | true | undefined) => (typeof v === "string" ? v.split(",").map((s) => s.trim()).filter(Boolean) : undefined);

/** `--ignore` names; a leading comma adds the blank name (a CSV whose first header cell is empty). */
function ignored(v: string | true | undefined): string[] {
  if (typeof v !== "string") return [];
  const names = v.split(",").map((x) => x.trim());
  return names.filter((n, k) => n !== "" || k === 0);
}

function positiveInt(v: string | true | undefined, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!(Number.isInteger(n) && n >= 1)) throw new UsageError(`--${name} must be a positive integer, got "${v}"`);
  return n;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const data = args.get("data");
  const out = args.get("out");
  const target = args.get("target");
  if (typeof data !== "string") throw new UsageError("--data panel.csv is required");
  if (typeof out !== "string") throw new UsageError("--out DIR is required");
  if (typeof target !== "string") throw new UsageError("--target NAME is required");
  if (!existsSync(data)) throw new UsageError(`${data}: no such file`);
  const graph = args.get("graph");
  if (typeof graph === "string" && !existsSync(graph)) throw new UsageError(`${graph}: no such file`);
  const log1p = args.get("log1p") ?? "none";
  if (log1p !== "none" && log1p !== "channels" && log1p !== "all") throw new UsageError(`--log1p must be none, channels or all, got "${log1p}"`);
  if (existsSync(out) && !args.has("force")) throw new UsageError(`${out} exists: choose another --out or pass --force`);
  const inside = (file: string) => !relative(resolve(out), resolve(file)).startsWith("..") && !isAbsolute(relative(resolve(out), resolve(file)));
  if (inside(data) || (typeof args.get("graph") === "string" && inside(args.get("graph") as string))) throw new UsageError(`--out ${out} contains the input data: choose another --out`);
  // roles: --channels, else the sidecar; the target must agree with the sidecar's
  const side = existsSync(sidecarPath(data)) ? readSidecar(sidecarPath(data)) : undefined;
  const channels = list(args.get("channels")) ?? side?.channels;
  if (!channels) throw new UsageError(`give --channels (no roles sidecar ${sidecarPath(data)})`);
  if (side && side.target !== target && !args.has("channels")) throw new UsageError(`--target ${target} differs from the sidecar's target "${side.target}" (${sidecarPath(data)}); pass --channels to set the roles yourself`);
  const roles: RolesSpec = { target, channels, intermediates: list(args.get("intermediates")) ?? (args.has("channels") ? [] : side?.intermediates ?? []) };
  const log = (line: string) => process.stderr.write(`${line}\n`);
  await initBackend(undefined, log);
  // with a sidecar (and no --channels) its roles and its unit -> graph map are used; its own
  // edge file is the truth unless --graph names another
  const useSidecar = side !== undefined && !args.has("channels");
  const panel = readPanelCsv(data, {
    ...(useSidecar ? {} : { roles, sidecar: false as const }),
    graphFile: typeof graph === "string" ? graph : undefined,
    contextPrefix: typeof args.get("context-prefix") === "string" ? (args.get("context-prefix") as string) : "ctx_",
    ignoreColumns: ignored(args.get("ignore")),
    unitColumn: typeof args.get("unit-column") === "string" ? (args.get("unit-column") as string) : "unit",
    timeColumn: typeof args.get("time-column") === "string" ? (args.get("time-column") as string) : "time",
    minSteps: 40,
  });
  const result = await diagnosePanel(panel, {
    scaler: { log1p },
    stage1: { fit: { epochs: positiveInt(args.get("epochs"), "epochs", 200) } },
    decoder: { fit: { epochs: positiveInt(args.get("decoder-epochs"), "decoder-epochs", 15) } },
    evalUnits: args.get("eval-units") === "all" ? null : positiveInt(args.get("eval-units"), "eval-units", 40),
    roles: args.has("roles"),
    seed: positiveInt(args.get("seed"), "seed", 1),
    log,
  });
  const files = await writeDiagnosis(result, out, { force: args.has("force") });
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
