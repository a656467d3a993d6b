/**
 * The Gaussian-mixture file the data tests read (data/mixture-file.test.ts, data/fuzz.test.ts): a valid
 * FILE.json with two correlated 2-D components, π = (0.4, 0.6), μ_1 = (0, 1), μ_2 = (2, −1) and full
 * covariances Σ_1 = [[1, 0.5], [0.5, 2]], Σ_2 = [[0.5, 0.3], [0.3, 0.4]] (both positive definite).
 */
export const CORRELATED_MIXTURE = {
  weights: [0.4, 0.6],
  means: [
    [0, 1],
    [2, -1],
  ],
  covariances: [
    [
      [1, 0.5],
      [0.5, 2],
    ],
    [
      [0.5, 0.3],
      [0.3, 0.4],
    ],
  ],
};
