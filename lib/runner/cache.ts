/**
 * The result cache: one JSON file per job, `<dir>/<kind>/<key>.json`, where the key is the
 * SHA-256 of the job's kind, its kind's version and the canonical JSON of its configuration
 * (sorted keys), so that equal configurations share a result whatever their key order.
 *
 * Entries are written atomically: the text goes to a temporary file in the same folder
 * (`<key>.json.<pid>-<random>.tmp`), is flushed to disk, and is renamed over the entry. A reader
 * sees the old entry, the new one, or none, never part of one. A process killed while writing
 * leaves its temporary file behind; {@link sweepTempFiles} removes those of dead processes.
 *
 * The folder is `STUDY_CACHE_DIR` when set, else `.cache/results/` in the repository.
 */
import { createHash, randomBytes } from "node:crypto";
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { REPO_ROOT } from "../study";
import { requestedMatMul } from "../native-matmul";
import { canonicalJson, decodeJson, encodeJson } from "./json";
import type { Job } from "./registry";

export const CACHE_ENV = "STUDY_CACHE_DIR";
export const ENTRY_FORMAT = "graph-mmm-result/1";

/** `STUDY_CACHE_DIR`, else `<repo>/.cache/results`. */
export function defaultCacheDir(): string {
  const fromEnv = process.env[CACHE_ENV];
  return fromEnv ? resolve(fromEnv) : join(REPO_ROOT, ".cache", "results");
}

/**
 * The cache key of a job: hex SHA-256 of kind, version and canonical configuration, and of the
 * product kernel when `GRAPH_MMM_MATMUL` asks for OpenBLAS (its numbers differ from wasm's in
 * rounding, so the two never share an entry; wasm's keys are those of earlier caches).
 */
export function cacheKey(kind: string, version: string, config: unknown): string {
  const products = requestedMatMul() === "blas" ? "\nproducts: blas" : "";
  const text = `${JSON.stringify(kind)}\n${JSON.stringify(version)}\n${canonicalJson(config, `config of job "${kind}"`)}${products}`;
  return createHash("sha256").update(text).digest("hex");
}

/** Where a job's entry is stored. */
export function entryPath(dir: string, kind: string, key: string): string {
  return join(dir, kind, `${key}.json`);
}

/** A cached result with what produced it. */
export interface CacheEntry<R = unknown> {
  format: string;
  kind: string;
  version: string;
  key: string;
  config: unknown;
  result: R;
  /** Seconds the job ran (not counting process start). */
  seconds: number;
  /** ISO time the job finished. */
  finished: string;
  /** Process and host that ran it, and the tensor backend (null when the job wanted none). */
  pid: number;
  host: string;
  backend: string | null;
}

/** The text of an entry; throws (naming the field) when the result is not storable JSON. */
export function encodeEntry(entry: Omit<CacheEntry, "format" | "host" | "finished"> & Partial<Pick<CacheEntry, "host" | "finished">>): string {
  const head = {
    format: ENTRY_FORMAT,
    kind: entry.kind,
    version: entry.version,
    key: entry.key,
    seconds: entry.seconds,
    finished: entry.finished ?? new Date().toISOString(),
    pid: entry.pid,
    host: entry.host ?? hostname(),
    backend: entry.backend,
  };
  const config = canonicalJson(entry.config, "config");
  const result = encodeJson(entry.result, `result of job "${entry.kind}"`);
  return `${encodeJson(head).slice(0, -1)},"config":${config},"result":${result}}\n`;
}

/** The temporary file name used for `file` by this process. */
function tempName(file: string): string {
  return `${file}.${process.pid}-${randomBytes(4).toString("hex")}.tmp`;
}

const TEMP = /\.json\.(\d+)-[0-9a-f]+\.tmp$/;

/** Writes `text` to `file` atomically (temporary file in the same folder, fsync, rename). */
export function writeFileAtomic(file: string, text: string | Buffer): void {
  const tmp = tempName(file);
  const fd = openSync(tmp, "w");
  try {
    const buf = typeof text === "string" ? Buffer.from(text) : text;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Stores a job's entry; returns its path. */
export function writeEntry(dir: string, entry: Parameters<typeof encodeEntry>[0]): string {
  const text = encodeEntry(entry);
  const file = entryPath(dir, entry.kind, entry.key);
  mkdirSync(join(dir, entry.kind), { recursive: true });
  writeFileAtomic(file, text);
  return file;
}

/** Which entry: a job's kind, its kind's version and its cache key. */
export interface EntryId {
  kind: string;
  version: string;
  key: string;
}

/**
 * Reads a job's entry. Undefined when there is none; also undefined (with `problem` told why)
 * when the file exists but is not an entry for this kind, version and key, so that the job is
 * recomputed and the file replaced.
 */
export function readEntry<R = unknown>(dir: string, id: EntryId, problem?: (why: string) => void): CacheEntry<R> | undefined {
  const { kind, version, key } = id;
  const file = entryPath(dir, kind, key);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  let entry: CacheEntry<R>;
  try {
    entry = decodeJson<CacheEntry<R>>(text);
  } catch (err) {
    problem?.(`${file} is not valid JSON (${(err as Error).message}); recomputing`);
    return undefined;
  }
  if (entry?.format !== ENTRY_FORMAT || entry.kind !== kind || entry.version !== version || entry.key !== key || !("result" in entry)) {
    problem?.(`${file} is not a ${ENTRY_FORMAT} entry for ${kind} version ${version}; recomputing`);
    return undefined;
  }
  return entry;
}

/** Reads the cached entry of a job whose kind's version is `version`, if any. */
export function cachedEntry<R>(job: Job<R>, version: string, dir: string = defaultCacheDir()): CacheEntry<R> | undefined {
  return readEntry<R>(dir, { kind: job.kind, version, key: cacheKey(job.kind, version, job.config) });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes temporary files left in the cache by processes that died while writing (or only those
 * of `pid` when given, e.g. a child that was just killed). Returns the removed paths.
 */
export function sweepTempFiles(dir: string, pid?: number): string[] {
  if (!existsSync(dir)) return [];
  const removed: string[] = [];
  for (const kind of readdirSync(dir)) {
    const sub = join(dir, kind);
    if (!statSync(sub).isDirectory()) continue;
    for (const f of readdirSync(sub)) {
      const m = TEMP.exec(f);
      if (!m) continue;
      const owner = Number(m[1]);
      if (pid !== undefined ? owner !== pid : owner === process.pid || alive(owner)) continue;
      rmSync(join(sub, f), { force: true });
      removed.push(join(sub, f));
    }
  }
  return removed;
}
