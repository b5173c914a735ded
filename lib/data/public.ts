/**
 * The two real public panels shipped in `data/` with their licences (see data/README.md), loaded
 * through the generic CSV path (`panelFromTable`) after mapping their columns with arquero:
 * Meridian's geo panel ({@link loadMeridianGeo}) and DeepCausalMMM's example panel
 * ({@link loadDeepCausalMMM}). Neither has a true graph; they are the study's real data for
 * forecasting checks and bypass diagnostics. Values are raw (impressions, conversions, visits):
 * fit a scaler (log1p for channels) on the training window before modelling.
 */
import { DataError, didYouMean } from "./errors";
import { type CsvPanelOptions, type CsvTable, panelFromTable, readCsvTable } from "./csv";
import type { Panel } from "./panel";
import { dataPath } from "./paths";

/** Options of `loadMeridianGeo`. */
export interface MeridianOptions {
  /** Default: `meridian/geo_all_channels.csv` under the data folder (`dataRoot()`). */
  file?: string;
  /** Which media columns are the channels. */
  media: "impression" | "spend";
  /** Minimum number of weeks per geo (lag window + horizon). */
  minSteps: number;
}

export const DEFAULT_MERIDIAN_OPTIONS: MeridianOptions = { media: "impression", minSteps: 1 };

/** Options of `loadDeepCausalMMM`. */
export interface DeepCausalMMMOptions {
  /** Default: `deepcausalmmm/mmm_data.csv` under the data folder (`dataRoot()`). */
  file?: string;
  /** What to do with regions that do not cover all weeks. */
  incompleteUnits: CsvPanelOptions["incompleteUnits"];
  /** Minimum number of weeks per region (lag window + horizon). */
  minSteps: number;
}

export const DEFAULT_DEEPCAUSALMMM_OPTIONS: DeepCausalMMMOptions = { incompleteUnits: "drop", minSteps: 1 };

function requireColumns(csv: CsvTable, names: readonly string[]): void {
  const cols = csv.table.columnNames();
  for (const n of names) if (!cols.includes(n)) throw new DataError({ file: csv.file, column: n, line: 1 }, `required column is missing${didYouMean(n, cols)}`);
}

/**
 * Meridian's simulated geo panel: 40 geos x 156 weeks, 5 channels, target conversions, context
 * population. The file is Meridian `geo_all_channels.csv` (Google Meridian's simulated geo data,
 * Apache-2.0). Unit `geo`, time `time` (ISO dates, weekly). Channels: the five
 * `Channel<k>_impression` columns by default (`media: "spend"` takes `Channel<k>_spend`; in this
 * file spend is impressions times a fixed cost per channel, so the two differ only by a
 * per-channel scale). Target: `conversions`. Context: `population` (constant per geo). Not used:
 * the pandas index column, the controls (`competitor_sales_control`, `sentiment_score_control`,
 * `Organic_channel0_impression`, `Promo`) and `revenue_per_conversion` (they are neither funnel
 * nodes nor constant per geo); they are listed in the provenance.
 */
export function loadMeridianGeo(options: Partial<MeridianOptions> = {}): Panel {
  const opt = { ...DEFAULT_MERIDIAN_OPTIONS, ...options };
  if (opt.media !== "impression" && opt.media !== "spend") throw new Error(`loadMeridianGeo: media must be "impression" or "spend", got ${opt.media}`);
  const file = dataPath("meridian/geo_all_channels.csv", opt.file);
  const csv = readCsvTable(file);
  const channels = [0, 1, 2, 3, 4].map((k) => `Channel${k}_${opt.media}`);
  requireColumns(csv, ["geo", "time", ...channels, "conversions", "population"]);
  const used = new Set(["geo", "time", ...channels, "conversions", "population"]);
  const notUsed = csv.table.columnNames().filter((c) => !used.has(c));
  const table = csv.table.select([...used]).rename({ geo: "unit", population: "ctx_population" });
  const originalNames = { unit: "geo", ctx_population: "population" };
  const panel = panelFromTable(
    { ...csv, table, originalNames },
    { roles: { target: "conversions", channels }, sidecar: false, minSteps: opt.minSteps, nonNegativeChannels: true },
  );
  panel.provenance = {
    generator: "meridian-geo",
    params: {
      origin: "google/meridian geo_all_channels.csv (Apache-2.0)",
      media: opt.media,
      unit: "geo",
      time: "time",
      target: "conversions",
      context: ["population"],
      notUsed,
    },
    source: file,
    history: [{ op: "readPanelCsv", args: panel.provenance.params }],
  };
  return panel;
}

/**
 * DeepCausalMMM's example panel: regions x 109 weeks, 13 impression channels, target visits. The
 * file is DeepCausalMMM `mmm_data.csv` (examples/data/MMM Data.csv, MIT): unit `dmacode`, time
 * `weekid` (integers 0..108), 13 channels `impressions_Channel_<nn>_...` renamed to
 * `impressions_Channel_<nn>` (the original names are kept in the provenance), target
 * `target_visits`; the 7 controls are not used. 184 of the 190 regions cover all 109 weeks; 6
 * cover only part of them. A panel is dense, so the loader drops those 6 explicitly by default
 * (`incompleteUnits: "drop"`, listed in `provenance.history`); `"error"` refuses.
 */
export function loadDeepCausalMMM(options: Partial<DeepCausalMMMOptions> = {}): Panel {
  const opt = { ...DEFAULT_DEEPCAUSALMMM_OPTIONS, ...options };
  const file = dataPath("deepcausalmmm/mmm_data.csv", opt.file);
  const csv = readCsvTable(file);
  requireColumns(csv, ["dmacode", "weekid", "target_visits"]);
  const cols = csv.table.columnNames();
  const rename: Record<string, string> = { dmacode: "unit", weekid: "time" };
  const channels: string[] = [];
  const originalNames: Record<string, string> = {};
  for (const c of cols) {
    const m = /^(impressions_Channel_\d+)(_.*)?$/.exec(c);
    if (!m) continue;
    if (originalNames[m[1]] !== undefined) {
      throw new DataError({ file, column: c, line: 1 }, `two columns shorten to "${m[1]}" (also "${originalNames[m[1]]}")`);
    }
    originalNames[m[1]] = c;
    rename[c] = m[1];
    channels.push(m[1]);
  }
  if (channels.length === 0) {
    throw new DataError(
      { file, column: "impressions_Channel_01", line: 1 },
      `no impressions_Channel_<nn> columns${didYouMean("impressions_Channel_01", cols)}`,
    );
  }
  const used = ["dmacode", "weekid", ...Object.values(originalNames), "target_visits"];
  const notUsed = cols.filter((c) => !used.includes(c));
  const table = csv.table.select(used).rename(rename);
  const panel = panelFromTable(
    { ...csv, table, originalNames: Object.fromEntries(Object.entries(rename).map(([a, b]) => [b, a])) },
    { roles: { target: "target_visits", channels }, sidecar: false, minSteps: opt.minSteps, nonNegativeChannels: true, incompleteUnits: opt.incompleteUnits },
  );
  panel.provenance = {
    generator: "deepcausalmmm",
    params: {
      origin: "adityapt/deepcausalmmm examples/data/MMM Data.csv (MIT)",
      unit: "dmacode",
      time: "weekid",
      target: "target_visits",
      channels: originalNames,
      notUsed,
      incompleteUnits: opt.incompleteUnits,
    },
    source: file,
    history: [{ op: "readPanelCsv", args: panel.provenance.params }],
  };
  return panel;
}
