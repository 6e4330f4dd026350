/** A progress bar on stderr for long runs (silent with --quiet or when stderr is not a terminal). */
import cliProgress from 'cli-progress';

export interface ProgressBar {
  tick(samples: number): void;
  stop(): void;
}

export function progressBar(label: string, total: number, quiet: boolean): ProgressBar {
  if (quiet || !process.stderr.isTTY || total <= 0) return { tick() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {value}/{total} samples | {rate}/s | ETA {eta_formatted}`,
      hideCursor: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = performance.now();
  let done = 0;
  bar.start(total, 0, { rate: 0 });
  return {
    tick(samples) {
      done += samples;
      bar.update(done, { rate: Math.round(done / ((performance.now() - started) / 1000)) });
    },
    stop() {
      bar.stop();
    },
  };
}
