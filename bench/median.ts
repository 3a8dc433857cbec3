/** The median of per-round figures (the mean of the middle two for an even count); the benchmarks' one summary. */
export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** `values` ÷ `base` round by round: the median ratio and, in brackets, the range over the rounds ("0.94× (0.89–0.95)"). */
export const ratioSummary = (values: readonly number[], base: readonly number[]): string => {
  const ratios = values.map((v, i) => v / base[i]!);
  return `${median(ratios).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`;
};
