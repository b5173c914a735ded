import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { trueAllocationResponses } from "../../lib/analysis/truth";
import type { Panel } from "../../lib/data/panel";
import { type SimulationResult, generateRawlog, generateSparseTarget, generateVarDag } from "../../lib/data/simulate";
import { generateBypassProne } from "../../lib/data/bypass-prone";
import { unitProcess } from "./resimulate";

const close = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b} (tol ${tol})`);

/**
 * An independent re-simulation: the noise of every non-root node is recovered from the panel
 * (x_i(t) minus its autoregression and parents), then the whole system is simulated forward
 * from the origin with the changed spend and that noise. Written without the delta propagation
 * of the module under test.
 */
function resimulate(sim: SimulationResult, unit: number, origin: number, horizon: number, carryover: number, allocation: readonly number[]): number {
  const { N, C, obs, ar, sat, drive, noise } = unitProcess(sim, unit);
  const changed = obs.slice(0, C).map((s, j) =>
    sat(
      s.map((v, t) => (t >= origin && t < origin + horizon ? allocation[j] : v)),
      j,
    ),
  );
  // series (observed), and the counterfactual from the origin on
  const cf = obs.map((s) => [...s]);
  for (let t = origin; t < origin + horizon + carryover; t++) {
    for (let i = C; i < N; i++) cf[i][t] = ar[i] * cf[i][t - 1] + drive(cf, changed, i, t) + noise(i, t);
  }
  let s = 0;
  for (let t = origin; t < origin + horizon + carryover; t++) s += cf[N - 1][t];
  return s;
}

describe("trueAllocationResponses", () => {
  const cases: [string, SimulationResult][] = [
    ["linear VAR-DAG", generateVarDag({ units: 6, steps: 80, seed: 3, linear: true })],
    ["saturating VAR-DAG", generateVarDag({ units: 6, steps: 80, seed: 4 })],
    ["sparse-target", generateSparseTarget({ units: 6, steps: 80, seed: 5 })],
    // spend that followed demand is set by the allocation; the demand shock and the context level stay in the target as drawn
    ["bypass-prone", generateBypassProne({ units: 6, steps: 80, seed: 8 })],
  ];
  for (const [name, sim] of cases) {
    it(`equals an independent forward re-simulation with the recovered noise (${name})`, () => {
      const C = sim.config.channels;
      const allocations = [
        Array.from({ length: C }, (_, j) => 0.5 + j),
        Array.from({ length: C }, () => 0),
        Array.from({ length: C }, (_, j) => (j === 1 ? 4 : 0.2)),
      ];
      const units = [0, 3, 5];
      const origins = [50, 61];
      const H = 5;
      const carry = 6;
      const got = trueAllocationResponses(sim.panel, allocations, { units, origins, horizon: H, carryover: carry, measure: "sum" });
      allocations.forEach((a, k) => {
        const want = units.reduce((s, u) => s + origins.reduce((q, o) => q + resimulate(sim, u, o, H, carry, a), 0) / origins.length, 0) / units.length;
        close(got.responses[k], want, 1e-4, `${name}, allocation ${k}`);
      });
      // the observed value is the target as it was
      const T = sim.panel.steps;
      const N = sim.panel.nodes;
      const obs =
        units.reduce(
          (s, u) =>
            s +
            origins.reduce((q, o) => {
              let v = 0;
              for (let t = o; t < o + H + carry; t++) v += sim.panel.values[(u * T + t) * N + N - 1];
              return q + v;
            }, 0) /
              origins.length,
          0,
        ) / units.length;
      close(got.observed, obs, 1e-6, `${name}, observed`);
      // and the allocations differ in what they earn (the intervention reaches the target)
      assert.ok(Math.abs(got.responses[0] - got.responses[1]) > 1e-3, `${name}: spend changes the target`);
    });
  }

  it("is affine in the allocation on a linear panel, and the mean measure divides by the measured steps", () => {
    const sim = generateVarDag({ units: 4, steps: 60, seed: 8, linear: true });
    const C = sim.config.channels;
    const a = Array.from({ length: C }, (_, j) => j + 1);
    const b = Array.from({ length: C }, (_, j) => 3 - 0.5 * j);
    const mid = a.map((v, j) => (v + b[j]) / 2);
    const cfg = { units: [0, 1, 2, 3], origins: [30, 40], horizon: 4, carryover: 3, measure: "sum" as const };
    const [ra, rb, rm] = trueAllocationResponses(sim.panel, [a, b, mid], cfg).responses;
    close(rm, (ra + rb) / 2, 1e-6, "midpoint");
    const [mean] = trueAllocationResponses(sim.panel, [a], { ...cfg, measure: "mean" }).responses;
    close(mean, ra / 7, 1e-9, "mean = sum / (H + carryover)");
  });

  it("refuses panels it cannot know the truth of, and bad windows or allocations, with a clear message", () => {
    const sim = generateVarDag({ units: 3, steps: 40, seed: 1 });
    const C = sim.config.channels;
    const ok = { units: [0], origins: [20], horizon: 3, carryover: 2, measure: "sum" as const };
    const rawlog = generateRawlog({ units: 3, steps: 40, seed: 2 }).panel;
    assert.throws(() => trueAllocationResponses(rawlog, [[1, 1, 1, 1, 1]], ok), /generateVarDag, generateSparseTarget or the bypass-prone generator/);
    const bare: Panel = { ...sim.panel, provenance: undefined as unknown as Panel["provenance"] };
    assert.throws(() => trueAllocationResponses(bare, [], ok), /no provenance/);
    assert.throws(() => trueAllocationResponses(sim.panel, [[1]], ok), /allocation 0 has 1 values for 5 channels/);
    assert.throws(() => trueAllocationResponses(sim.panel, [Array(C).fill(-1)], ok), /negative/);
    assert.throws(() => trueAllocationResponses(sim.panel, [], { ...ok, origins: [38] }), /origin 38 needs steps 38..42 inside the panel's 40 steps/);
    assert.throws(() => trueAllocationResponses(sim.panel, [], { ...ok, units: [7] }), /unit 7 is not in 0..2/);
  });
});
