#!/usr/bin/env node
// Places the CausalMMM shipped simulation (three .npy files) in data/causalmmm-sim/.
// Their repository has no licence, so the project does not redistribute them: this script copies
// them from a local mirror or downloads them from the original repository at a pinned commit, and
// accepts a file only when its SHA-256 is the pinned one. Plain Node with no dependencies, so that
// it runs on a fresh clone before anything is installed or built.
//
//   node scripts/data.mjs      (also `npm run data`; `npm test`, `npm run study` run it first)
//
// Environment:
//   GRAPH_MMM_DATA_DIR         the data folder (default <repo>/data); files go to its causalmmm-sim/
//   GRAPH_MMM_DATA_MIRROR      a folder holding the three files, or one with a causalmmm-sim/
//                              subfolder; "none" for no mirror (default: the machine-local
//                              ../shared/data/causalmmm-sim beside the checkout, when it exists)
//   GRAPH_MMM_DATA_URL         base URL of the download (default: the pinned commit on GitHub)
//   GRAPH_MMM_DATA_TIMEOUT_MS  timeout of each download (default 60000)
//
// Nothing happens when the three files are present with the right checksums. Otherwise every
// missing or wrong file is read (mirror first, else download) and checked in memory before any is
// written; each is then written to a temporary file in the target folder and renamed, so a failed
// or interrupted run leaves no partial file. On failure: one line on stderr, exit status 1.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** The three files and their SHA-256 at the pinned commit. */
export const CAUSALMMM_FILES = Object.freeze({
  "shuffled_data.npy": "2b692ea8f004bc48f955697a3a571bf4950cad85cb722d18086059d911b626fd",
  "shuffled_context.npy": "a7671b207ada84846603c5485cc0f1c21ae9ebf596acb9b8a324169e488ac84e",
  "shuffled_edges.npy": "ac3d7ddb574a58e0751f10f6dc16e35e7fe8752c3f688f3630858d9a0c33d24d",
});

/** The original repository's data/sim folder at the pinned commit. */
export const DEFAULT_BASE_URL = "https://raw.githubusercontent.com/ChaunceyKung/CausalMMM/7d2fd4391757b6c63ee6144744b80784c1aa211f/data/sim";

/** The mirror used when GRAPH_MMM_DATA_MIRROR is unset: a machine-local data folder beside the checkout. */
export const DEFAULT_MIRROR = join(ROOT, "..", "shared", "data", "causalmmm-sim");

const DEFAULT_TIMEOUT_MS = 60_000;

/** A failure of `ensureCausalMMMData`; its message is one line. */
export class DataFetchError extends Error {
  constructor(message) {
    super(message);
    this.name = "DataFetchError";
  }
}

const sha256 = (buf) => createHash("sha256").update(buf).digest("hex");
const isDir = (p) => existsSync(p) && statSync(p).isDirectory();

/**
 * The folder of the mirror named by `mirror` (a folder with the files directly or with a
 * `causalmmm-sim/` subfolder), or undefined for none. A named folder that does not exist is an error.
 */
export function mirrorFolder(mirror) {
  if (mirror === undefined || mirror === "" || mirror === "none") return undefined;
  const dir = resolve(mirror);
  if (!isDir(dir))
    throw new DataFetchError(
      `data: mirror ${dir} is not a folder (set GRAPH_MMM_DATA_MIRROR to a folder holding ${Object.keys(CAUSALMMM_FILES).join(", ")}, or to "none")`,
    );
  const sub = join(dir, "causalmmm-sim");
  return isDir(sub) ? sub : dir;
}

/** The options `main` derives from the environment. */
export function optionsFromEnv(env = process.env) {
  const dataDir = env.GRAPH_MMM_DATA_DIR ? resolve(env.GRAPH_MMM_DATA_DIR) : join(ROOT, "data");
  const mirror =
    env.GRAPH_MMM_DATA_MIRROR !== undefined && env.GRAPH_MMM_DATA_MIRROR !== "" ? env.GRAPH_MMM_DATA_MIRROR : isDir(DEFAULT_MIRROR) ? DEFAULT_MIRROR : "none";
  const timeoutMs = env.GRAPH_MMM_DATA_TIMEOUT_MS ? Number(env.GRAPH_MMM_DATA_TIMEOUT_MS) : DEFAULT_TIMEOUT_MS;
  if (!(timeoutMs > 0))
    throw new DataFetchError(`data: GRAPH_MMM_DATA_TIMEOUT_MS must be a positive number of milliseconds, got "${env.GRAPH_MMM_DATA_TIMEOUT_MS}"`);
  return { dir: join(dataDir, "causalmmm-sim"), mirror, baseUrl: env.GRAPH_MMM_DATA_URL || DEFAULT_BASE_URL, timeoutMs };
}

/** The bytes at `url`, or a one-line reason why not (`network` when the server was not reached). */
async function download(url, timeoutMs) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "follow" });
    if (!res.ok) return { error: `HTTP ${res.status}` };
    return { bytes: Buffer.from(await res.arrayBuffer()) };
  } catch (e) {
    if (e?.name === "TimeoutError" || e?.name === "AbortError") return { error: `no answer within ${timeoutMs} ms`, network: true };
    const cause = e?.cause;
    return { error: String(cause?.code ?? cause?.message ?? e?.message ?? e).split("\n")[0], network: true };
  }
}

/**
 * Makes sure `dir` holds the three CausalMMM files with their pinned SHA-256.
 *
 * @param {object} options
 * @param {string} options.dir       target folder (created when needed)
 * @param {string} [options.mirror]  a mirror folder (see `mirrorFolder`), or "none"
 * @param {string} [options.baseUrl] where `<baseUrl>/<file>` is downloaded from
 * @param {number} [options.timeoutMs] timeout of each download
 * @param {(line: string) => void} [options.log] receives one line per file placed
 * @returns {Promise<{ present: string[], placed: { file: string, from: string }[] }>}
 * @throws {DataFetchError} with a one-line message, having written nothing
 */
export async function ensureCausalMMMData({ dir, mirror = "none", baseUrl = DEFAULT_BASE_URL, timeoutMs = DEFAULT_TIMEOUT_MS, log = () => {} }) {
  const target = resolve(dir);
  const names = Object.keys(CAUSALMMM_FILES);
  const present = names.filter((f) => existsSync(join(target, f)) && sha256(readFileSync(join(target, f))) === CAUSALMMM_FILES[f]);
  const needed = names.filter((f) => !present.includes(f));
  const stale = new Set(needed.filter((f) => existsSync(join(target, f))));
  if (needed.length === 0) return { present, placed: [] };

  const from = mirrorFolder(mirror);
  const base = baseUrl.replace(/\/+$/, "");
  const got = [];
  const missing = [];
  let unreachable; // once the server was not reached, the other downloads are not attempted (they would wait as long)
  for (const f of needed) {
    const local = from !== undefined ? join(from, f) : undefined;
    let source, bytes;
    if (local !== undefined && existsSync(local)) {
      source = local;
      bytes = readFileSync(local);
    } else {
      source = `${base}/${f}`;
      const r = unreachable ?? (await download(source, timeoutMs));
      if (r.error !== undefined) {
        if (r.network) unreachable = r;
        missing.push({ file: f, reason: `${source}: ${r.error}` });
        continue;
      }
      bytes = r.bytes;
    }
    const sum = sha256(bytes);
    if (sum !== CAUSALMMM_FILES[f])
      throw new DataFetchError(`data: ${source} has SHA-256 ${sum}, expected ${CAUSALMMM_FILES[f]}; rejected, nothing written to ${target}`);
    got.push({ file: f, from: source, bytes });
  }
  if (missing.length > 0) {
    const list = missing.map((m) => m.file).join(", ");
    throw new DataFetchError(
      `data: cannot get ${list} for ${target} (${missing[0].reason}); download them from ${DEFAULT_BASE_URL}/ into that folder, or set GRAPH_MMM_DATA_MIRROR to a folder holding them`,
    );
  }

  mkdirSync(target, { recursive: true });
  for (const { file, from: source, bytes } of got) {
    const tmp = join(target, `.${file}.${process.pid}.tmp`);
    try {
      writeFileSync(tmp, bytes);
      if (sha256(readFileSync(tmp)) !== CAUSALMMM_FILES[file]) throw new Error("the written copy differs from what was read");
      renameSync(tmp, join(target, file));
    } catch (e) {
      rmSync(tmp, { force: true });
      throw new DataFetchError(`data: cannot write ${join(target, file)}: ${String(e?.message ?? e).split("\n")[0]}`);
    }
    log(`data: ${join(target, file)} from ${source}${stale.has(file) ? " (replaced a copy with a wrong checksum)" : ""}`);
  }
  return { present, placed: got.map(({ file, from: source }) => ({ file, from: source })) };
}

async function main() {
  try {
    await ensureCausalMMMData({ ...optionsFromEnv(), log: (line) => process.stderr.write(`${line}\n`) });
  } catch (e) {
    process.stderr.write(`${e instanceof DataFetchError ? e.message : `data: ${String(e?.message ?? e).split("\n")[0]}`}\n`);
    process.exit(1);
  }
}

/** Whether this module is the script node was asked to run (not an import). */
function invokedDirectly() {
  try {
    return process.argv[1] !== undefined && realpathSync(resolve(process.argv[1])) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}
if (invokedDirectly()) await main();
