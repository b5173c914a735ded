import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { CACHE_ENV, cacheKey, defaultCacheDir, entryPath, readEntry, sweepTempFiles, writeEntry } from "../../lib/runner/cache";
import { REPO_ROOT } from "../../lib/study";

describe("runner cache", () => {
  const dir = mkdtempSync(join(tmpdir(), "graph-mmm-cache-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("keys change with the kind, the version and the configuration, not with key order", () => {
    const base = cacheKey("bypass-seed", "1", { seed: 1, decoder: { hidden: 16, lr: 0.01 } });
    assert.match(base, /^[0-9a-f]{64}$/);
    assert.equal(cacheKey("bypass-seed", "1", { decoder: { lr: 0.01, hidden: 16 }, seed: 1 }), base, "key order does not matter");
    assert.notEqual(cacheKey("bypass-seed", "1", { seed: 2, decoder: { hidden: 16, lr: 0.01 } }), base, "another seed");
    assert.notEqual(cacheKey("bypass-seed", "1", { seed: 1, decoder: { hidden: 16, lr: 0.02 } }), base, "a nested setting");
    assert.notEqual(cacheKey("bypass-seed", "2", { seed: 1, decoder: { hidden: 16, lr: 0.01 } }), base, "another version");
    assert.notEqual(cacheKey("other", "1", { seed: 1, decoder: { hidden: 16, lr: 0.01 } }), base, "another kind");
    assert.notEqual(cacheKey("k", "1", { x: NaN }), cacheKey("k", "1", { x: null }), "NaN is not null");
    assert.notEqual(cacheKey("k", "1", [1, 2]), cacheKey("k", "1", [2, 1]), "array order matters");
  });

  it("OpenBLAS products (GRAPH_MMM_MATMUL=blas) key their own entries; wasm's keys are unchanged", () => {
    const saved = process.env.GRAPH_MMM_MATMUL;
    try {
      delete process.env.GRAPH_MMM_MATMUL;
      const plain = cacheKey("bypass-seed", "1", { seed: 1 });
      process.env.GRAPH_MMM_MATMUL = "wasm";
      assert.equal(cacheKey("bypass-seed", "1", { seed: 1 }), plain);
      process.env.GRAPH_MMM_MATMUL = "blas";
      assert.notEqual(cacheKey("bypass-seed", "1", { seed: 1 }), plain);
    } finally {
      if (saved === undefined) delete process.env.GRAPH_MMM_MATMUL;
      else process.env.GRAPH_MMM_MATMUL = saved;
    }
  });

  it("defaults to .cache/results in the repository, or STUDY_CACHE_DIR", () => {
    const saved = process.env[CACHE_ENV];
    try {
      delete process.env[CACHE_ENV];
      assert.equal(defaultCacheDir(), join(REPO_ROOT, ".cache", "results"));
      process.env[CACHE_ENV] = dir;
      assert.equal(defaultCacheDir(), dir);
    } finally {
      if (saved === undefined) delete process.env[CACHE_ENV];
      else process.env[CACHE_ENV] = saved;
    }
  });

  it("stores an entry with NaN and infinities and reads it back; leaves no temporary file", () => {
    const key = cacheKey("k", "1", { a: 1 });
    const result = { mse: NaN, auroc: [0.5, Infinity, -Infinity], nested: { z: -0 } };
    const file = writeEntry(dir, { kind: "k", version: "1", key, config: { a: 1 }, result, seconds: 0.25, pid: 42, backend: null });
    assert.equal(file, entryPath(dir, "k", key));
    const entry = readEntry(dir, { kind: "k", version: "1", key });
    assert.ok(entry);
    assert.deepStrictEqual(entry.result, result);
    assert.deepStrictEqual(entry.config, { a: 1 });
    assert.equal(entry.seconds, 0.25);
    assert.deepEqual(readdirSync(join(dir, "k")), [`${key}.json`]);
    assert.match(readFileSync(file, "utf8"), /"mse":\{"\$float":"NaN"\}/);
  });

  it("a missing entry is undefined; a corrupt or foreign one is a miss with a reason", () => {
    assert.equal(readEntry(dir, { kind: "k", version: "1", key: "0".repeat(64) }), undefined);
    const key = cacheKey("k", "1", { b: 2 });
    mkdirSync(join(dir, "k"), { recursive: true });
    writeFileSync(entryPath(dir, "k", key), '{"format":"graph-mmm-result/1","kind":"k"');
    const why: string[] = [];
    assert.equal(
      readEntry(dir, { kind: "k", version: "1", key }, (w) => why.push(w)),
      undefined,
    );
    assert.match(why[0], /not valid JSON/);
    writeEntry(dir, { kind: "k", version: "1", key, config: { b: 2 }, result: 1, seconds: 0, pid: 1, backend: null });
    assert.equal(
      readEntry(dir, { kind: "k", version: "2", key }, (w) => why.push(w)),
      undefined,
      "another version",
    );
    assert.match(why[1], /not a graph-mmm-result\/1 entry for k version 2/);
  });

  it("refuses a result that is not JSON before writing anything", () => {
    const key = cacheKey("k", "1", { c: 3 });
    assert.throws(
      () => writeEntry(dir, { kind: "k", version: "1", key, config: { c: 3 }, result: { m: new Map() }, seconds: 0, pid: 1, backend: null }),
      /result of job "k"\.m: a Map/,
    );
    assert.equal(existsSync(entryPath(dir, "k", key)), false);
    assert.deepEqual(
      readdirSync(join(dir, "k")).filter((f) => f.endsWith(".tmp")),
      [],
    );
  });

  it("removes temporary files of dead processes only", () => {
    const sub = join(dir, "sweep");
    mkdirSync(sub, { recursive: true });
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]).stdout.toString();
    const deadTmp = join(sub, `${"a".repeat(64)}.json.${dead}-0123abcd.tmp`);
    const liveTmp = join(sub, `${"b".repeat(64)}.json.${process.pid}-0123abcd.tmp`);
    writeFileSync(deadTmp, '{"partial');
    writeFileSync(liveTmp, '{"partial');
    assert.deepEqual(sweepTempFiles(dir), [deadTmp]);
    assert.ok(existsSync(liveTmp), "a live process may still rename its file");
    assert.deepEqual(sweepTempFiles(dir, process.pid), [liveTmp], "the runner removes a killed child's files by its pid");
  });

  it("a reader never sees a partial entry while another process rewrites it", async () => {
    // a child rewrites a ~3 MB entry over and over; this process reads it as fast as it can
    const key = cacheKey("big", "1", {});
    const script = `
      const { writeEntry } = require(${JSON.stringify(join(REPO_ROOT, "build", "lib", "runner", "cache.js"))});
      const result = Array.from({ length: 200000 }, (_, i) => (i % 7 === 0 ? NaN : i / 3));
      for (let k = 0; k < 25; k++) writeEntry(${JSON.stringify(dir)}, { kind: "big", version: "1", key: ${JSON.stringify(key)}, config: {}, result: [k, ...result], seconds: k, pid: process.pid, backend: null });
    `;
    const child = spawn(process.execPath, ["-e", script], { stdio: "inherit" });
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    let reads = 0;
    let running = true;
    void exited.then(() => (running = false));
    const seen = new Set<number>();
    while (running) {
      const entry = readEntry<number[]>(dir, { kind: "big", version: "1", key }, (why) => assert.fail(`a reader saw a broken entry: ${why}`));
      if (entry) {
        assert.equal(entry.result.length, 200001);
        seen.add(entry.result[0]);
        reads++;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(await exited, 0);
    assert.ok(reads > 0, "the reader read the entry");
    assert.equal(readEntry<number[]>(dir, { kind: "big", version: "1", key })!.result[0], 24);
    assert.deepEqual(readdirSync(join(dir, "big")), [`${key}.json`], "no temporary file left");
    assert.ok(seen.size >= 1);
  });
});
