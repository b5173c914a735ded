/**
 * The command lines of `study`, `diagnose` and `bench` (scripts/cli.ts and the three scripts, run
 * as processes from build/scripts/*.js): `--help` and `-h` print the usage and do no work, an
 * unknown option or a bad value exits 2 with one line naming it, `--name=value` works like
 * `--name value`; and diagnose names units by their ids, quoting CSV fields that need it.
 */
import assert from "node:assert/strict";
import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { writePanelCsv } from "../../lib/data/csv";
import { generateVarDag } from "../../lib/data/simulate";
import type { DiagnosisFile } from "../../lib/experiments/diagnose";
import { decodeJson } from "../../lib/runner/json";
import { REPO_ROOT } from "../../lib/study";
import { UsageError, choiceListOption, parseCommandLine, positiveIntOption } from "../../scripts/cli";

type Command = "study" | "diagnose" | "bench";

const tempDir = () => mkdtempSync(join(tmpdir(), "graph-mmm-cli-"));

function run(command: Command, args: string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> & { seconds: number } {
  const started = Date.now();
  const r = spawnSync(process.execPath, [join(REPO_ROOT, "build", "scripts", `${command}.js`), ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 120_000,
  });
  if (r.error) throw r.error;
  return { ...r, seconds: (Date.now() - started) / 1000 };
}

const nonEmptyLines = (text: string) => text.split(/\r?\n/).filter((l) => l.trim() !== "");

/** Asserts a usage error: exit 2, nothing on stdout, one stderr line `<command>: ...` matching `match`. */
function assertUsageError(command: Command, r: SpawnSyncReturns<string>, match: RegExp): void {
  assert.equal(r.status, 2, `exit ${r.status} (signal ${r.signal}); stderr:\n${r.stderr}`);
  assert.equal(r.stdout, "", "nothing on stdout");
  const lines = nonEmptyLines(r.stderr);
  assert.equal(lines.length, 1, `one stderr line:\n${r.stderr}`);
  assert.ok(lines[0].startsWith(`${command}: `), lines[0]);
  assert.match(lines[0], match);
}

/** A minimal RFC 4180 reader: records of fields, quoted fields may hold commas, quotes and line breaks. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let quoted = false;
  let k = 0;
  while (k < text.length) {
    const c = text[k];
    if (quoted) {
      if (c === '"' && text[k + 1] === '"') {
        field += '"';
        k += 2;
        continue;
      }
      if (c === '"') quoted = false;
      else field += c;
      k++;
      continue;
    }
    if (c === '"') {
      assert.equal(field, "", `a quote inside an unquoted field at ${k}`);
      quoted = true;
    } else if (c === ",") {
      record.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[k + 1] === "\n") k++;
      record.push(field);
      records.push(record);
      record = [];
      field = "";
    } else field += c;
    k++;
  }
  assert.equal(quoted, false, "an unterminated quoted field");
  if (field !== "" || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  return records;
}

// ---------------------------------------------------------------------------------------------
// 1. --help and -h: the usage on stdout, exit 0, no work
// ---------------------------------------------------------------------------------------------

describe("--help", () => {
  it("study --help prints its usage in a couple of seconds and runs no notebook", () => {
    const dir = tempDir();
    const figures = join(dir, "figures");
    for (const flag of ["--help", "-h"]) {
      // a paper-scale request with the help flag last: the help wins, nothing starts
      const r = run("study", ["--scale", "paper", flag], { STUDY_FIGURES_DIR: figures });
      assert.equal(r.status, 0, `exit ${r.status}; stderr:\n${r.stderr}`);
      assert.match(r.stdout, /^Usage: npm run study/);
      for (const o of ["--scale smoke|paper", "--only", "-h, --help", "Example:"]) assert.ok(r.stdout.includes(o), `usage lacks ${o}`);
      assert.ok(!`${r.stdout}${r.stderr}`.includes("[notebooks]"), "no notebook run starts");
      assert.equal(r.stderr, "");
      assert.ok(!existsSync(figures), "no figures index is written");
      assert.ok(r.seconds < 5, `study ${flag} took ${r.seconds.toFixed(1)} s`);
    }
  });

  it("diagnose --help prints its usage and writes nothing", () => {
    const dir = tempDir();
    const out = join(dir, "out");
    for (const flag of ["--help", "-h"]) {
      const r = run("diagnose", ["--data", join(dir, "none.csv"), "--target", "y", "--out", out, flag]);
      assert.equal(r.status, 0, `exit ${r.status}; stderr:\n${r.stderr}`);
      assert.match(r.stdout, /^Usage: npm run diagnose -- --data panel\.csv --target NAME --out DIR/);
      for (const o of [
        "--data",
        "--graph",
        "--target",
        "--out",
        "--channels",
        "--intermediates",
        "--unit-column",
        "--time-column",
        "--context-prefix",
        "--ignore",
        "--log1p",
        "--epochs",
        "--decoder-epochs",
        "--eval-units",
        "--roles",
        "--seed",
        "--force",
        "default 200",
        "Example:",
      ]) {
        assert.ok(r.stdout.includes(o), `usage lacks ${o}`);
      }
      assert.equal(r.stderr, "", "no progress: no backend is loaded");
      assert.ok(!existsSync(out));
    }
  });

  it("bench --help prints its usage and times nothing", () => {
    const r = run("bench", ["--quick", "--help"]);
    assert.equal(r.status, 0, `exit ${r.status}; stderr:\n${r.stderr}`);
    assert.match(r.stdout, /^Usage: npm run bench/);
    for (const o of ["--epochs", "--quick", "--backends", "--presets", "--workers", "Example:"]) assert.ok(r.stdout.includes(o), `usage lacks ${o}`);
    assert.ok(!r.stdout.includes("--child"), "the internal option is not advertised");
    assert.equal(r.stderr, "", "no [bench] case starts");
  });
});

// ---------------------------------------------------------------------------------------------
// 2. Unknown options and bad values: exit 2, one line naming the option
// ---------------------------------------------------------------------------------------------

describe("unknown options and bad values", () => {
  it("study", () => {
    assertUsageError("study", run("study", ["--scales", "smoke"]), /unknown option --scales/);
    assertUsageError("study", run("study", ["--scale=huge"]), /--scale must be smoke or paper, got "huge"/);
    assertUsageError("study", run("study", ["--scale"]), /--scale needs a value/);
    assertUsageError("study", run("study", ["smoke"]), /unexpected argument "smoke"/);
    assertUsageError("study", run("study", [], { STUDY_SCALE: "huge" }), /STUDY_SCALE="huge" is not a scale/);
    // --scale=smoke is read (no complaint about it) and the bad --only stops the run before any notebook
    const r = run("study", ["--scale=smoke", "--only=no-such-notebook"]);
    assertUsageError("study", r, /--only no-such-notebook: no notebook's name contains it \(notebooks: 00-tour,/);
    assert.ok(!r.stderr.includes("[notebooks]"));
  });

  it("diagnose", () => {
    assertUsageError(
      "diagnose",
      run("diagnose", ["--data", "x.csv", "--target", "y", "--out", "o", "--epoch", "3"]),
      /unknown option --epoch \(known: --data,/,
    );
    assertUsageError("diagnose", run("diagnose", ["--data=x.csv", "--target=y", "--out=o", "--epochs=0"]), /--epochs must be a positive integer, got "0"/);
    assertUsageError(
      "diagnose",
      run("diagnose", ["--data=x.csv", "--target=y", "--out=o", "--log1p=some"]),
      /--log1p must be none, channels or all, got "some"/,
    );
    assertUsageError("diagnose", run("diagnose", ["--data", "--target", "y"]), /--data needs a value/);
    assertUsageError("diagnose", run("diagnose", ["--data=x.csv", "--force=yes"]), /--force takes no value/);
    assertUsageError("diagnose", run("diagnose", ["-x"]), /unknown option -x/);
  });

  it("bench", () => {
    assertUsageError(
      "bench",
      run("bench", ["--quik"]),
      /unknown option --quik \(known: --epochs, --quick, --backends, --presets, --workers, --threads, --matmul, --official; see --help\)/,
    );
    assertUsageError("bench", run("bench", ["--quick", "--backends=wasm", "--epochs=none"]), /--epochs must be a positive integer, got "none"/);
    assertUsageError("bench", run("bench", ["--backends", "wasm,gpu"]), /--backends: "gpu" is not tensorflow, wasm or cpu/);
    assertUsageError("bench", run("bench", ["--presets=fast"]), /--presets: "fast" is not official or default/);
    assertUsageError("bench", run("bench", ["--workers", "1,0"]), /--workers must be a positive integer, got "0"/);
    assertUsageError("bench", run("bench", ["--threads", "2,x"]), /--threads must be a positive integer, got "x"/);
    assertUsageError("bench", run("bench", ["--matmul=wasm,cublas"]), /--matmul: "cublas" is not wasm or blas/);
  });
});

describe("parseCommandLine", () => {
  const spec = {
    name: "t",
    usage: "Usage: t",
    options: { n: { type: "string" }, flag: { type: "boolean" }, hidden: { type: "string", internal: true } },
  } as const;

  it("reads --name value and --name=value alike, and booleans", () => {
    assert.deepEqual({ ...parseCommandLine(spec, ["--n", "3", "--flag"]) }, { n: "3", flag: true });
    assert.deepEqual({ ...parseCommandLine(spec, ["--n=3"]) }, { n: "3" });
    assert.deepEqual({ ...parseCommandLine(spec, ["--n=-3"]) }, { n: "-3" }, "a value starting with - is given with =");
    assert.deepEqual({ ...parseCommandLine(spec, ["--n=a,b"]) }, { n: "a,b" });
    assert.deepEqual({ ...parseCommandLine(spec, ["--n", ",a"]) }, { n: ",a" });
    assert.deepEqual({ ...parseCommandLine(spec, []) }, {});
  });

  it("names the option in every error", () => {
    const fails = (argv: string[], match: RegExp) =>
      assert.throws(
        () => parseCommandLine(spec, argv),
        (e: unknown) => e instanceof UsageError && match.test(e.message),
      );
    fails(["--m", "1"], /^unknown option --m \(known: --n, --flag; see --help\)$/);
    fails(["--n"], /^--n needs a value$/);
    fails(["--n", "-3"], /^--n needs a value, got the option-like "-3"/);
    fails(["--flag=1"], /^--flag takes no value/);
    fails(["stray"], /^unexpected argument "stray"/);
    fails(["--", "stray"], /^unexpected argument "stray"/);
  });

  it("value helpers", () => {
    assert.equal(positiveIntOption(undefined, "k", 7), 7);
    assert.equal(positiveIntOption("12", "k", 7), 12);
    for (const bad of ["0", "-1", "1.5", "", " ", "x", "1e400"]) assert.throws(() => positiveIntOption(bad, "k", 7), /--k must be a positive integer/, bad);
    assert.deepEqual(choiceListOption("a, b", "c", ["a", "b"] as const, []), ["a", "b"]);
    assert.throws(() => choiceListOption(",", "c", ["a", "b"] as const, []), /--c needs at least one of a or b/);
  });
});

// ---------------------------------------------------------------------------------------------
// 3. diagnose: the user's unit ids in every output, CSV fields quoted where needed
// ---------------------------------------------------------------------------------------------

describe("diagnose names units by their ids", () => {
  it("unit ids and node names with commas and quotes are quoted in the CSVs and round-trip", () => {
    const dir = tempDir();
    const sim = generateVarDag({ units: 3, steps: 60, graphs: 1, channels: 2, intermediates: 1, contextDim: 0, linear: true, lags: 2, seed: 3 }).panel;
    const ids = ['a,"b"', "north, east", "plain"];
    const names = sim.nodeNames.map((n, i) => (sim.roles[i] === "intermediate" ? 'visits "web", all' : n));
    const panel = { ...sim, unitIds: ids, nodeNames: names };
    const data = writePanelCsv(panel, join(dir, "panel.csv")).csv;
    const out = join(dir, "out");
    // the roles come from the sidecar (a channel name could not go through --channels); every
    // option as --name=value
    const r = run("diagnose", [
      `--data=${data}`,
      "--target=target",
      `--out=${out}`,
      "--epochs=2",
      "--decoder-epochs=1",
      "--eval-units=2",
      "--seed=2",
      "--unit-graphs=always",
    ]);
    assert.equal(r.status, 0, `exit ${r.status}; stderr:\n${r.stderr}`);
    assert.match(nonEmptyLines(r.stderr).at(-1)!, /^diagnose: done in /);

    const N = names.length;
    const unitsText = readFileSync(join(out, "graph-units.csv"), "utf8");
    assert.ok(unitsText.includes('"a,""b"""'), 'the id a,"b" is quoted with its quotes doubled');
    const units = parseCsv(unitsText);
    assert.deepEqual(units[0], ["unit", "source", "target", "probability", "selected"]);
    assert.equal(units.length - 1, ids.length * N * (N - 1));
    for (const row of units.slice(1)) {
      assert.equal(row.length, 5, `five fields: ${JSON.stringify(row)}`);
      assert.ok(ids.includes(row[0]), `a unit id: ${JSON.stringify(row[0])}`);
      assert.ok(names.includes(row[1]) && names.includes(row[2]) && row[1] !== row[2], `node names: ${JSON.stringify(row)}`);
      assert.ok(Number(row[3]) >= 0 && Number(row[3]) <= 1 && (row[4] === "0" || row[4] === "1"), JSON.stringify(row));
    }
    assert.deepEqual([...new Set(units.slice(1).map((row) => row[0]))], ids, "every unit, in panel order");

    const graph = parseCsv(readFileSync(join(out, "graphs", "dice-stage1.csv"), "utf8"));
    assert.deepEqual(graph[0], ["source", "target", "probability", "selected_share"]);
    assert.equal(graph.length - 1, N * (N - 1));
    assert.ok(graph.every((row) => row.length === 4));
    assert.ok(graph.some((row) => row[0] === 'visits "web", all') && graph.some((row) => row[1] === 'visits "web", all'));

    const d = decodeJson<DiagnosisFile>(readFileSync(join(out, "diagnostics.json"), "utf8"));
    assert.deepEqual(d.panel.unitIds, ids);
    assert.deepEqual(d.panel.nodes, names);
    assert.deepEqual(d.evalUnits, ['a,"b"', "north, east"], "--eval-units=2 of 3: the first two evenly spaced, by id");
    assert.equal(d.config.seed, 2);
    assert.equal(d.config.evalUnits, 2);
    assert.equal(d.config.stage1.fit?.epochs, 2);
    assert.equal(d.config.decoder.fit?.epochs, 1);
    assert.equal((d.stage1 as Record<string, unknown>).probs, undefined, "per-unit graphs are in graph-units.csv only");
  });
});
