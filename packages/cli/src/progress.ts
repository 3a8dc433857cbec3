import cliProgress from 'cli-progress';

/** Progress with rate and ETA on stderr; silent when stderr is not a terminal or output is JSON. */
export interface Progress {
  start(total: number | undefined): void;
  tick(by?: number): void;
  stop(): void;
}

export function progress(label: string, enabled: boolean): Progress {
  if (!enabled || !process.stderr.isTTY) return { start() {}, tick() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {value}/{total} | {speed}/s | ETA {eta_formatted}`,
      hideCursor: true,
      etaBuffer: 200,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  let value = 0;
  let total = 0;
  return {
    start(n) {
      total = n ?? 0;
      bar.start(total, 0, { speed: '0' });
    },
    tick(by = 1) {
      value += by;
      if (value > total) bar.setTotal((total = value));
      const seconds = (Date.now() - started) / 1000;
      bar.update(value, { speed: seconds > 0 ? (value / seconds).toFixed(0) : '0' });
    },
    stop() {
      bar.stop();
    },
  };
}
