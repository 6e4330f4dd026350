/**
 * Confidence bounds and tests used by randomized smoothing.
 *
 * Soundness rule: every value returned here may err only in the safe direction, over the whole
 * range the CLI and API accept (n up to 2^32, alpha down to MIN_ALPHA, and the stage and
 * candidate splits of it down to ALPHA_FLOOR); what cannot be made sound is refused.
 *
 * How. A Clopper–Pearson bound is the point where a binomial tail meets alpha. stdlib's beta
 * quantile (Boost's incomplete beta inverse) only gives the starting point, always in the
 * form that takes alpha itself (1 - alpha is never formed: at alpha = 1e-15 it would shift
 * alpha by 10%). The start is refined by Newton steps and then *verified* on the binomial
 * tail, evaluated here by direct summation from Loader's saddle-point pmf (relative error
 * TAIL_RTOL, measured against 60-digit mpmath sums in test/stats.test.ts): the bound is
 * stepped outward until the computed tail, less its possible error, leaves at most alpha
 * outside. The library quantile alone was off by up to ~3e-9 relative at n >= 1e8, on the
 * unsafe side. Finally every bound is pushed outward by a relative CONSERVATIVE_MARGIN, which
 * also absorbs the noise scheme's truncated tail (noise/gaussian.ts MAX_NOISE_DIM).
 */
import betaQuantile from '@stdlib/stats-base-dists-beta-quantile';
import erfcinv from '@stdlib/math-base-special-erfcinv';

/** Relative widening applied to every bound, beyond verification: covers the noise truncation (>= 5e-11 absolute on a bound > 1/2). */
export const CONSERVATIVE_MARGIN = 1e-10;

/** Pushes x down by the conservative margin, staying in [0, 1]. */
function roundDown(x: number): number {
  return Math.max(0, x - Math.abs(x) * CONSERVATIVE_MARGIN);
}

/** Pushes x up by the conservative margin, staying in [0, 1]. */
function roundUp(x: number): number {
  return Math.min(1, x + Math.max(Math.abs(x) * CONSERVATIVE_MARGIN, Number.MIN_VALUE));
}

/**
 * Smallest failure probability the bounds accept. The CLI and API accept alpha >= 1e-15
 * (protocol/schemas.ts MIN_ALPHA); the stage and candidate splits divide it further, down to
 * here. Soundness is tested against exact tail sums down to this value (test/stats.test.ts).
 */
export const ALPHA_FLOOR = 1e-20;

/**
 * Smallest alpha (or alpha_zeta) a user may ask for, on the CLI and the API: the stage splits
 * (at most 33 stages up to 2^32 samples) and candidate splits stay above ALPHA_FLOOR for up to
 * 3,000 candidates.
 */
export const MIN_ALPHA = 1e-15;

/** Largest sample count the bounds accept: the noise stream's 2^32 samples per input. */
export const MAX_TRIALS = 2 ** 32;

/**
 * Relative error allowed for the binomial tails below (binomialCdfAt, binomialSfAt), at their
 * exact double arguments. Measured against 60-digit exact tail sums over the accepted range (n
 * up to 2^32, alpha down to ALPHA_FLOOR) in test/stats.test.ts, which fails if the worst
 * disagreement ever exceeds a tenth of this.
 */
export const TAIL_RTOL = 1e-10;

function checkCounts(k: number, n: number, fn: string): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_TRIALS) throw new RangeError(`${fn}: n must be an integer in [1, 2^32], got ${n}`);
  if (!Number.isInteger(k) || k < 0 || k > n) throw new RangeError(`${fn}: k must be an integer in [0, n], got ${k}`);
}

function checkAlpha(alpha: number, fn: string): void {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`${fn}: alpha must be in (0, 1), got ${alpha}`);
  if (alpha < ALPHA_FLOOR) throw new RangeError(`${fn}: alpha ${alpha} is below ${ALPHA_FLOOR}, where the bounds are not verified; refusing rather than risk an unsound bound`);
}

/** stirlerr(n) = log(n!) - log(sqrt(2 pi n) (n/e)^n) for n = 0..15 (mpmath, 20 digits). */
const STIRLERR = [
  0, 0.08106146679532725822, 0.041340695955409294094, 0.027677925684998339149, 0.020790672103765093112,
  0.016644691189821192163, 0.013876128823070747999, 0.011896709945891770095, 0.010411265261972096497,
  0.0092554621827127329177, 0.0083305634333628712565, 0.007573675487951840795, 0.0069428401072095298657,
  0.0064089941880042070684, 0.0059513701127588477356, 0.005554733551962801371,
];

/** Loader's stirlerr for integer n: the table, then the Stirling series (error < 1e-17 for n > 15). */
function stirlerr(n: number): number {
  if (n <= 15) return STIRLERR[n];
  const nn = n * n;
  if (n > 500) return (1 / 12 - 1 / 360 / nn) / n;
  if (n > 80) return (1 / 12 - (1 / 360 - 1 / 1260 / nn) / nn) / n;
  if (n > 35) return (1 / 12 - (1 / 360 - (1 / 1260 - 1 / 1680 / nn) / nn) / nn) / n;
  return (1 / 12 - (1 / 360 - (1 / 1260 - (1 / 1680 - 1 / 1188 / nn) / nn) / nn) / nn) / n;
}

/** Loader's deviance term bd0(x, m) = x log(x / m) + m - x, by a series where x is near m. */
function bd0(x: number, m: number): number {
  if (Math.abs(x - m) < 0.1 * (x + m)) {
    let v = (x - m) / (x + m);
    const s0 = (x - m) * v;
    let s = s0;
    let ej = 2 * x * v;
    v *= v;
    for (let j = 1; j < 1000; j++) {
      ej *= v;
      const s1 = s + ej / (2 * j + 1);
      if (s1 === s) return s1;
      s = s1;
    }
    return s;
  }
  return x * Math.log(x / m) + m - x;
}

/**
 * log P(Bin(n, p) = x), with q = 1 - p given: Loader's saddle-point form ("Fast and accurate
 * computation of binomial probabilities", 2000, as R's dbinom), accurate to ~1e-14 relative at
 * any n (log-gamma differences lose ~n * 1e-16 at large n, which is why stdlib's pmf is not used).
 */
function logBinomialPmf(x: number, n: number, p: number, q: number): number {
  if (x === 0) return p < 0.1 ? -bd0(n, n * q) - n * p : n * Math.log(q);
  if (x === n) return q < 0.1 ? -bd0(n, n * p) - n * q : n * Math.log(p);
  const lc = stirlerr(n) - stirlerr(x) - stirlerr(n - x) - bd0(x, n * p) - bd0(n - x, n * q);
  // log(2 pi x (n - x) / n), without forming 1 - x / n (which loses digits when x is near n)
  return lc - 0.5 * (Math.log(2 * Math.PI) + Math.log(x) + Math.log(n - x) - Math.log(n));
}

/**
 * Sum of P(Bin(n, p) = i) for i from `from` outward (step -1: down to 0, +1: up to n), where the
 * terms only decrease (the sum starts beyond the mode): term by term with the pmf ratio,
 * re-anchored on the exact pmf every 512 terms so that rounding cannot accumulate, and stopped
 * once a geometric bound on the remainder is below 1e-17 of the sum.
 */
function tailSum(from: number, step: 1 | -1, n: number, p: number, q: number): { sum: number; first: number } {
  const first = Math.exp(logBinomialPmf(from, n, p, q));
  let t = first;
  let sum = t;
  let i = from;
  for (let j = 1; ; j++) {
    // ratio pmf(i + step) / pmf(i)
    const r = step < 0 ? (i * q) / ((n - i + 1) * p) : ((n - i) * p) / ((i + 1) * q);
    if (step < 0 ? i === 0 : i === n) break;
    i += step;
    t = j % 512 === 0 ? Math.exp(logBinomialPmf(i, n, p, q)) : t * r;
    sum += t;
    const rn = step < 0 ? (i * q) / ((n - i + 1) * p) : ((n - i) * p) / ((i + 1) * q);
    if (t === 0 || (rn < 1 && (t * rn) / (1 - rn) <= sum * 1e-17)) break;
    if (j > 4e6) throw new RangeError(`binomial tail at n = ${n}, p = ${p}: the sum did not converge`);
  }
  return { sum, first };
}

/**
 * P(Bin(n, u) <= k) at the exact double u, and pmf(k) (for Newton steps). The side of k that
 * does not hold the mode is summed; the other side is 1 minus it (then the tail is >= ~1/4, so
 * the subtraction loses nothing that matters). Relative error below TAIL_RTOL (measured).
 */
function binomialCdfAt(k: number, n: number, u: number): { tail: number; pmf: number } {
  if (u <= 0) return { tail: 1, pmf: k === 0 ? 1 : 0 };
  if (u >= 1) return { tail: k === n ? 1 : 0, pmf: k === n ? 1 : 0 };
  if (k === n) return { tail: 1, pmf: Math.exp(logBinomialPmf(k, n, u, 1 - u)) };
  const q = 1 - u; // exact for u >= 1/2 (Sterbenz); below, relative error <= 2^-53
  const mode = Math.floor((n + 1) * u);
  if (k < mode) {
    const { sum, first } = tailSum(k, -1, n, u, q);
    return { tail: Math.min(1, sum), pmf: first };
  }
  const { sum } = tailSum(k + 1, 1, n, u, q);
  return { tail: Math.max(0, 1 - sum), pmf: Math.exp(logBinomialPmf(k, n, u, q)) };
}

/** P(Bin(n, p) >= k) at the exact double p, and pmf(k). */
function binomialSfAt(k: number, n: number, p: number): { tail: number; pmf: number } {
  if (p <= 0) return { tail: k === 0 ? 1 : 0, pmf: k === 0 ? 1 : 0 };
  if (p >= 1) return { tail: 1, pmf: k === n ? 1 : 0 };
  const q = 1 - p;
  if (k === 0) return { tail: 1, pmf: Math.exp(logBinomialPmf(0, n, p, q)) };
  const mode = Math.floor((n + 1) * p);
  if (k > mode) {
    const { sum, first } = tailSum(k, 1, n, p, q);
    return { tail: Math.min(1, sum), pmf: first };
  }
  const { sum } = tailSum(k - 1, -1, n, p, q);
  return { tail: Math.max(0, 1 - sum), pmf: Math.exp(logBinomialPmf(k, n, p, q)) };
}

/** For tests: the tail evaluators behind the verified bounds. */
export const binomialTails = {
  cdf: (k: number, n: number, u: number) => binomialCdfAt(k, n, u).tail,
  sf: (k: number, n: number, p: number) => binomialSfAt(k, n, p).tail,
};

/**
 * The Clopper–Pearson bound for the given tail: the x where the tail (decreasing in x for the
 * upper bound, increasing for the lower) meets alpha, refined from `start` by Newton steps on
 * log(tail), then verified: a bound is returned only once the computed tail, widened by the
 * evaluator's own error TAIL_RTOL, leaves at most alpha outside it. If it does not, the bound
 * is stepped outward (by a relative step that doubles each time) until it does.
 */
function verifiedBound(
  tail: (x: number) => { tail: number; pmf: number }, dlogTail: (x: number, t: { tail: number; pmf: number }) => number,
  start: number, fallbackStart: () => number, alpha: number, dir: 1 | -1, fn: string,
): number {
  const target = alpha * (1 - 2 * TAIL_RTOL);
  // Newton aims a little beyond the target, so that the verification below usually passes at once.
  const logAim = Math.log(alpha * (1 - 3 * TAIL_RTOL));
  // Newton on g(x) = log tail(x) - log aim from the cheap start; if it does not settle, again
  // from the library quantile (accurate, but ~10x the cost of a tail).
  const newton = (x0: number): { x: number; settled: boolean } => {
    let x = Math.min(1, Math.max(0, x0));
    for (let it = 0; it < 8 && x > 0 && x < 1; it++) {
      const t = tail(x);
      if (!(t.tail > 0) || !Number.isFinite(t.tail)) break;
      const d = dlogTail(x, t);
      if (!Number.isFinite(d) || d === 0) break;
      const next = x - (Math.log(t.tail) - logAim) / d;
      if (!(next > 0 && next < 1)) break;
      const small = Math.abs(next - x) <= Math.abs(x) * 1e-13;
      x = next;
      if (small) return { x, settled: true };
    }
    return { x, settled: false };
  };
  let { x, settled } = newton(start);
  if (!settled) x = newton(fallbackStart()).x;
  // Verify, stepping outward (the step doubling each time) until the tail condition holds.
  let step = Math.max(Math.abs(x) * 1e-13, Number.MIN_VALUE);
  for (let i = 0; i < 1100; i++) {
    if (x <= 0 || x >= 1) return dir > 0 ? 1 : 0;
    if (tail(x).tail <= target) return x;
    x += dir * step;
    step *= 2;
  }
  throw new RangeError(`${fn}: could not verify a sound bound (alpha ${alpha})`);
}

/** Wilson's score bound (one-sided, z = Phi^-1(1 - alpha)): only a start for Newton's steps. */
function wilson(k: number, n: number, alpha: number, dir: 1 | -1): number {
  const z = -normalQuantile(alpha);
  const z2 = z * z;
  const center = (k + z2 / 2) / (n + z2);
  const half = (z * Math.sqrt((k * (n - k)) / n + z2 / 4)) / (n + z2);
  const x = center + dir * half;
  return Math.min(1 - 1e-16, Math.max(Number.MIN_VALUE, x));
}

/**
 * One-sided (1 - alpha) Clopper–Pearson lower bound on p given k successes in n trials: the p
 * with P(Bin(n, p) >= k) = alpha (the alpha quantile of Beta(k, n - k + 1)), and 0 when k = 0.
 * Equals Cohen et al.'s `proportion_confint(k, n, alpha=2*alpha, method="beta")[0]`. Verified
 * against the binomial tail (verifiedBound), then pushed down by the conservative margin.
 */
export function clopperPearsonLower(k: number, n: number, alpha: number): number {
  checkCounts(k, n, 'clopperPearsonLower');
  checkAlpha(alpha, 'clopperPearsonLower');
  if (k === 0) return 0;
  // Closed form at k = n: the quantile of Beta(n, 1) is alpha^(1/n).
  const start = k === n ? Math.exp(Math.log(alpha) / n) : wilson(k, n, alpha, -1);
  const fallback = () => (k === n ? start : betaQuantile(alpha, k, n - k + 1));
  // d/dp log P(X >= k) = k pmf(k; n, p) / (p P(X >= k))
  const x = verifiedBound((p) => binomialSfAt(k, n, p), (p, t) => (k * t.pmf) / (p * t.tail), start, fallback, alpha, -1, 'clopperPearsonLower');
  return roundDown(x);
}

/**
 * One-sided (1 - alpha) Clopper–Pearson upper bound: the u with P(Bin(n, u) <= k) = alpha (the
 * 1 - alpha quantile of Beta(k + 1, n - k)), and 1 when k = n. 1 - alpha is never formed: the
 * start is 1 - (alpha quantile of Beta(n - k, k + 1)), refined and verified on the tail itself.
 */
export function clopperPearsonUpper(k: number, n: number, alpha: number): number {
  checkCounts(k, n, 'clopperPearsonUpper');
  checkAlpha(alpha, 'clopperPearsonUpper');
  if (k === n) return 1;
  // Closed form at k = 0: 1 - alpha^(1/n), computed without cancellation as -expm1(log(alpha)/n).
  const start = k === 0 ? -Math.expm1(Math.log(alpha) / n) : wilson(k, n, alpha, 1);
  const fallback = () => (k === 0 ? start : 1 - betaQuantile(alpha, n - k, k + 1));
  // d/du log P(X <= k) = -(n - k) pmf(k; n, u) / ((1 - u) P(X <= k))
  const x = verifiedBound((u) => binomialCdfAt(k, n, u), (u, t) => (-(n - k) * t.pmf) / ((1 - u) * t.tail), start, fallback, alpha, 1, 'clopperPearsonUpper');
  return roundUp(x);
}

/**
 * Standard normal quantile Phi^-1(p) = -sqrt(2) erfcinv(2p): accurate to ~1e-16 relative from
 * p = 1e-300 to 1 - 1e-12 (stdlib's normal quantile loses 1e-7 in the far lower tail). No
 * rounding: callers that need a bound round themselves.
 */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`normalQuantile: p must be in [0, 1], got ${p}`);
  return -Math.SQRT2 * erfcinv(2 * p);
}

/**
 * Two-sided exact binomial test p-value, as SciPy's `binomtest(k, n, p).pvalue`: the probability
 * of outcomes no more likely than the observed one (with SciPy's 1e-7 relative tolerance on ties).
 * Rounded up, since PREDICT abstains when the p-value exceeds alpha.
 */
export function binomialTestTwoSided(k: number, n: number, p = 0.5): number {
  checkCounts(k, n, 'binomialTestTwoSided');
  if (!(p >= 0 && p <= 1)) throw new RangeError(`binomialTestTwoSided: p must be in [0, 1], got ${p}`);
  // Loader's pmf and the summed tails (relative error <= TAIL_RTOL at any n <= 2^32; stdlib's
  // log-gamma pmf loses ~n 1e-16 relative), with p = 0 and 1 as closed forms.
  const q = 1 - p;
  const pmf = (x: number) => (p === 0 ? (x === 0 ? 1 : 0) : p === 1 ? (x === n ? 1 : 0) : Math.exp(logBinomialPmf(x, n, p, q)));
  const cdf = (x: number) => (x < 0 ? 0 : x >= n ? 1 : binomialCdfAt(x, n, p).tail);
  // P(X > x) = P(X >= x + 1)
  const sf = (x: number) => (x >= n ? 0 : binomialSfAt(x + 1, n, p).tail);
  const d = pmf(k);
  const rerr = 1 + 1e-7;
  const mean = p * n;
  let pvalue: number;
  if (k === mean) {
    pvalue = 1;
  } else if (k < mean) {
    // Outcomes above the mean at most as likely as k: -pmf increases on [ceil(mean), n].
    const ix = largestAtMost((x) => -pmf(x), -d * rerr, Math.ceil(mean), n);
    const y = n - ix + (d * rerr === pmf(ix) ? 1 : 0);
    pvalue = cdf(k) + sf(n - y);
  } else {
    // Outcomes below the mean at most as likely as k: pmf increases on [0, floor(mean)].
    const ix = largestAtMost(pmf, d * rerr, 0, Math.floor(mean));
    const y = ix + 1;
    pvalue = cdf(y - 1) + sf(k - 1);
  }
  // Each tail errs by at most TAIL_RTOL relative: widen by that before the margin.
  return Math.min(1, roundUp(pvalue * (1 + 2 * TAIL_RTOL)));
}

/** SciPy's `_binary_search_for_binom_tst`: the largest x in [lo, hi] with a(x) <= d, for increasing a. */
function largestAtMost(a: (x: number) => number, d: number, lo: number, hi: number): number {
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const v = a(mid);
    if (v < d) lo = mid + 1;
    else if (v > d) hi = mid - 1;
    else return mid;
  }
  return a(lo) <= d ? lo : lo - 1;
}

/**
 * The certified L2 radius sigma * Phi^-1(pLower) for a lower bound pLower on the top class's
 * probability, or 0 when pLower <= 1/2 (abstain). Rounded down: the radius is a safety claim.
 */
export function certifiedRadius(sigma: number, pLower: number): number {
  if (!(pLower > 0.5)) return 0;
  const r = sigma * normalQuantile(pLower);
  return Math.max(0, r - Math.abs(r) * CONSERVATIVE_MARGIN);
}

/** a - b rounded toward -infinity by one ulp where the subtraction may have rounded up. */
export function subtractDown(a: number, b: number): number {
  const d = a - b;
  return d - Math.abs(d) * Number.EPSILON;
}
