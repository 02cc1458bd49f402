// Geometry for the overview's small bar charts, drawn by the template as inline <svg> with
// presentation attributes only (the CSP forbids inline style and script): no chart library, no CDN.

export interface Bar { x: number; y: number; width: number; height: number; value: number; label: string }

export interface BarChart {
  width: number;
  height: number;
  bars: Bar[];
  max: number;
  total: number;
  /** The y of the baseline, for the axis line. */
  baseline: number;
}

const WIDTH = 240;
const HEIGHT = 56;
const GAP = 1;

/**
 * Bars for `values`, oldest first, scaled to the largest value; a zero still shows as a 1-unit stub so
 * an empty period reads as "nothing happened" rather than a missing chart. `labels[i]` names bar i.
 */
export function barChart(values: readonly number[], labels: readonly string[]): BarChart {
  const max = Math.max(0, ...values);
  const slot = WIDTH / Math.max(values.length, 1);
  const usable = HEIGHT - 2;
  const bars = values.map((value, index) => {
    const height = max === 0 ? 1 : Math.max(1, Math.round((value / max) * usable * 10) / 10);
    return {
      x: Math.round(index * slot * 10) / 10,
      y: Math.round((HEIGHT - height) * 10) / 10,
      width: Math.max(1, Math.round((slot - GAP) * 10) / 10),
      height,
      value,
      label: labels[index] ?? '',
    };
  });
  return { width: WIDTH, height: HEIGHT, bars, max, total: values.reduce((sum, value) => sum + value, 0), baseline: HEIGHT };
}
