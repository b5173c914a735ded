/**
 * The generator of a simulated panel, read for the tests independently of lib/analysis: a unit's
 * observed series, its channel transform and the parent term of the generator's equation
 * (lib/data/simulate.ts), from which the tests re-simulate the process with the recovered noise.
 */
import { type SimulationResult, contextHalfPoint, geometricAdstock, hillSaturation } from "../../lib/data/simulate";

/** One unit's process: x_i(t) = a_i x_i(t-1) + drive(x, f, i, t) + e_i(t) for the non-root nodes i >= C. */
export interface UnitProcess {
  N: number;
  T: number;
  C: number;
  /** Observed series per node, `obs[i][t]`. */
  obs: number[][];
  /** Own autoregression per node. */
  ar: number[];
  /** f of channel k for a spend series (Hill of the adstock, or the spend on a linear panel). */
  sat: (s: number[], k: number) => number[];
  /** f of every channel for the observed spend. */
  f: number[][];
  /** sum_k sum_l W[i, k, l] f_k(t - l), with f_k = `sender[k]` for channels and `series[k]` otherwise. */
  drive: (series: number[][], sender: number[][], i: number, t: number) => number;
  /** The noise e_i(t) (any additive term included) recovered from the observed series. */
  noise: (i: number, t: number) => number;
}

export function unitProcess(sim: SimulationResult, unit: number): UnitProcess {
  const p = sim.panel;
  const c = sim.config;
  const { N, T, C, L } = { N: p.nodes, T: p.steps, C: c.channels, L: c.lags };
  const g = sim.truth.graphOfUnit[unit];
  const ctx = p.context ? p.context.values.subarray(unit * p.context.names.length, (unit + 1) * p.context.names.length) : new Float32Array(0);
  const W = (i: number, k: number) => sim.truth.edges.find((e) => e.graph === g && e.target === p.nodeNames[i] && e.source === p.nodeNames[k])?.weights;
  const sat = (s: number[], k: number) => {
    if (c.linear) return s;
    const ch = sim.truth.channels[k];
    return Array.from(geometricAdstock(s, ch.adstock), (a) => hillSaturation(a, contextHalfPoint(ch, ctx), ch.slope));
  };
  const obs = Array.from({ length: N }, (_, i) => Array.from({ length: T }, (_, t) => p.values[(unit * T + t) * N + i]));
  const f = obs.slice(0, C).map((s, k) => sat(s, k));
  const drive = (series: number[][], sender: number[][], i: number, t: number) => {
    let v = 0;
    for (let k = 0; k < N; k++) {
      const w = W(i, k);
      if (!w) continue;
      const fk = k < C ? sender[k] : series[k];
      for (let l = 1; l <= L && l <= t; l++) v += w[l - 1] * fk[t - l];
    }
    return v;
  };
  const ar = sim.truth.ar;
  const noise = (i: number, t: number) => obs[i][t] - ar[i] * obs[i][t - 1] - drive(obs, f, i, t);
  return { N, T, C, obs, ar, sat, f, drive, noise };
}
