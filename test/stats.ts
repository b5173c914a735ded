/** Correlations written out for the tests, independently of the library's own (lib/diagnostics/ranking.ts). */

const mean = (a: readonly number[]) => a.reduce((s, v) => s + v, 0) / a.length;

/** Pearson correlation (NaN when a side is constant). */
export function pearsonByHand(a: readonly number[], b: readonly number[]): number {
  const ma = mean(a);
  const mb = mean(b);
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let k = 0; k < a.length; k++) {
    sab += (a[k] - ma) * (b[k] - mb);
    saa += (a[k] - ma) ** 2;
    sbb += (b[k] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** Ranks from 1, ties given their average rank. */
function ranks(v: readonly number[]): number[] {
  const order = v.map((x, k) => ({ x, k })).sort((p, q) => p.x - q.x);
  const r = new Array<number>(v.length);
  for (let s = 0; s < order.length;) {
    let e = s;
    while (e + 1 < order.length && order[e + 1].x === order[s].x) e++;
    for (let k = s; k <= e; k++) r[order[k].k] = (s + e) / 2 + 1;
    s = e + 1;
  }
  return r;
}

/** Spearman rank correlation: Pearson of the average ranks. */
export function spearmanByHand(a: readonly number[], b: readonly number[]): number {
  return pearsonByHand(ranks(a), ranks(b));
}
