/** Medians and spreads for benchmark reports (the machine is shared and noisy). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function spread(xs: readonly number[]): string {
  const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2));
  return `${fmt(Math.min(...xs))}-${fmt(Math.max(...xs))}`;
}

/** This process's CPU seconds (user + system): steadier than wall time on a shared machine. */
export function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}
