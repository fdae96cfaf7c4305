// A seeded generator for tests that generate variants, so a failure names a variant that reproduces.

/** Whole numbers in [0, n), the same sequence for the same seed. */
export function seededRandom(seed: number): (n: number) => number {
  let state = seed;
  return (n: number) => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state % n;
  };
}
