/**
 * A small seeded pseudo-random generator for simulations, tests and benchmarks.
 *
 * Statistical claims in this module (the threshold's guarantee, the guard's false-alarm rate) are
 * checked by simulation; a seed makes every such run reproducible, so a failing run can be replayed
 * and a passing one cannot be luck that changes from run to run. Not for anything security-related.
 */
export interface Random {
  /** Uniform on [0, 1). */
  next(): number;
  /** Uniform on [min, max). */
  uniform(min: number, max: number): number;
  /** Uniform integer in [min, max] (both inclusive). */
  integer(min: number, max: number): number;
  /** true with probability p. */
  bernoulli(p: number): boolean;
  /** Binomial(n, p) by summing n Bernoulli draws: exact, O(n), meant for simulation sizes. */
  binomial(n: number, p: number): number;
  /** Normal(mean, sd) by the Box–Muller transform. */
  normal(mean?: number, sd?: number): number;
  /** Gamma(shape, 1) by Marsaglia & Tsang (2000). */
  gamma(shape: number): number;
  /** Beta(a, b) as X/(X + Y) with X ~ Gamma(a), Y ~ Gamma(b) — e.g. a model's confidence scores. */
  beta(a: number, b: number): number;
}

/**
 * mulberry32 (Tommy Ettinger, public domain): a 32-bit state generator with a full 2³² period,
 * passes gjrand/PractRand at the sizes simulations here use, and is a handful of integer ops.
 */
export function mulberry32(seed: number): () => number {
  // Bound once: inside Jest's VM sandbox every global lookup (`Math`) costs ~100 ns, which
  // would dominate the simulations that run millions of draws in the specs.
  const imul = Math.imul;
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded Random; the same seed always gives the same sequence of draws. */
export function seededRandom(seed: number): Random {
  const next = mulberry32(seed);

  const normal = (mean = 0, sd = 1): number => {
    // 1 − u is in (0, 1], so the logarithm is finite.
    const radius = Math.sqrt(-2 * Math.log(1 - next()));
    return mean + sd * radius * Math.cos(2 * Math.PI * next());
  };

  const gamma = (shape: number): number => {
    if (!(shape > 0)) throw new RangeError(`gamma: shape must be positive, got ${shape}`);
    if (shape < 1) {
      // Boost: Gamma(a) = Gamma(a + 1)·U^(1/a).
      return gamma(shape + 1) * Math.pow(1 - next(), 1 / shape);
    }
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = 1 - next();
      if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  };

  return {
    next,
    uniform: (min, max) => min + (max - min) * next(),
    integer: (min, max) => min + Math.floor(next() * (max - min + 1)),
    bernoulli: (p) => next() < p,
    binomial: (n, p) => {
      let successes = 0;
      for (let i = 0; i < n; i++) if (next() < p) successes++;
      return successes;
    },
    normal,
    gamma,
    beta: (a, b) => {
      const x = gamma(a);
      return x / (x + gamma(b));
    },
  };
}
