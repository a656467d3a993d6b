/**
 * Linear-Gaussian Markovian HVAEs for the tests of src/hvae/, in plain float64: each layer
 * z ↦ N(M z + c, diag e^{logVar}) with a constant log-variance, the same layer on jax-js arrays, one
 * sample path's terms written out, and every term's expectation in closed form from the joint
 * Gaussian of (x, z_1, …, z_T) (each expectation of a Gaussian log-density under a Gaussian is analytic).
 */
import { exactArray } from "../engine/index.js";
import { numpy as np } from "../engine/jax.js";
import type { GaussianLayer, HvaeElboTerms, MarkovianHvae } from "../hvae/elbo.js";

export type Matrix = number[][];

/** z ↦ N(M z + c, diag e^{logVar}) (M is d_out × d_in). */
export interface LinearLayer {
  M: Matrix;
  c: number[];
  logVar: number[];
}

/** encoders[t − 1] = q(z_t | z_{t−1}), decoders[t − 1] = p(z_{t−1} | z_t), prior N(0, I). */
export interface LinearHvae {
  encoders: LinearLayer[];
  decoders: LinearLayer[];
}

export const matMul = (a: Matrix, b: Matrix): Matrix => a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
export const transpose = (a: Matrix): Matrix => a[0]!.map((_, j) => a.map((row) => row[j]!));
export const matVec = (a: Matrix, v: number[]): number[] => a.map((row) => row.reduce((s, x, k) => s + x * v[k]!, 0));
const addM = (a: Matrix, b: Matrix, sign = 1): Matrix => a.map((row, i) => row.map((v, j) => v + sign * b[i]![j]!));
const diag = (v: number[]): Matrix => v.map((x, i) => v.map((_, j) => (i === j ? x : 0)));
const sub = (a: number[], b: number[]) => a.map((v, i) => v - b[i]!);

/** log N(u; m, diag e^{logVar}) summed over dims. */
export const logNormal = (u: number[], m: number[], logVar: number[]) =>
  u.reduce((s, v, k) => s - 0.5 * (Math.log(2 * Math.PI) + logVar[k]! + (v - m[k]!) ** 2 / Math.exp(logVar[k]!)), 0);

/** The layer on jax-js float64 arrays: z [B, d_in] ↦ (z Mᵀ + c, logVar as [1, d_out]). */
export function jaxLayer({ M, c, logVar }: LinearLayer): GaussianLayer {
  return (z) => ({
    mean: np.matmul(z, exactArray(transpose(M).flat()).reshape([M[0]!.length, M.length])).add(exactArray(c).reshape([1, c.length])),
    logVar: exactArray(logVar).reshape([1, logVar.length]),
  });
}

export const jaxHvae = (h: LinearHvae): MarkovianHvae => ({ encoders: h.encoders.map(jaxLayer), decoders: h.decoders.map(jaxLayer) });

/** One path's −ELBO terms, written out: z_t = M z_{t−1} + c + e^{½ logVar} ε_t, log-densities at the path, analytic prior KL. */
export function pathTerms(h: LinearHvae, x: number[], eps: number[][]): HvaeElboTerms<number> {
  const T = h.encoders.length;
  const z = [x];
  for (let t = 1; t <= T; t++) {
    const e = h.encoders[t - 1]!;
    z.push(matVec(e.M, z[t - 1]!).map((m, k) => m + e.c[k]! + Math.exp(0.5 * e.logVar[k]!) * eps[t - 1]![k]!));
  }
  const density = (layer: LinearLayer, u: number[], given: number[]) =>
    logNormal(
      u,
      matVec(layer.M, given).map((m, k) => m + layer.c[k]!),
      layer.logVar,
    );
  const consistency: number[] = [];
  for (let t = 1; t < T; t++) consistency.push(density(h.encoders[t - 1]!, z[t]!, z[t - 1]!) - density(h.decoders[t]!, z[t]!, z[t + 1]!));
  const top = h.encoders[T - 1]!;
  const mean = matVec(top.M, z[T - 1]!).map((m, k) => m + top.c[k]!);
  const prior = mean.reduce((s, m, k) => s + 0.5 * (Math.exp(top.logVar[k]!) + m * m - 1 - top.logVar[k]!), 0);
  return { reconstruction: -density(h.decoders[0]!, x, z[1]!), consistency, prior };
}

/** The means and every covariance block cov[i][j] = Cov(z_i, z_j) of (z_0 = x, z_1, …, z_T) under x ~ N(m, S) and the encoders. */
export function jointMoments(h: LinearHvae, m: number[], S: Matrix) {
  const mean = [m];
  const cov: Matrix[][] = [[S]];
  h.encoders.forEach((e, i) => {
    const t = i + 1;
    mean.push(matVec(e.M, mean[i]!).map((v, k) => v + e.c[k]!));
    cov.push([]);
    for (let k = 0; k < t; k++) {
      cov[t]![k] = matMul(e.M, cov[i]![k]!); // Cov(z_t, z_k) = M_t Cov(z_{t−1}, z_k)
      cov[k]![t] = transpose(cov[t]![k]!);
    }
    cov[t]![t] = addM(matMul(cov[t]![i]!, transpose(e.M)), diag(e.logVar.map(Math.exp)));
  });
  return { mean, cov };
}

/**
 * E‖r‖² per dimension for r = P z_i + p − Q z_j − q under the joint Gaussian: the diagonal of
 * Cov(r) = P C_ii Pᵀ − P C_ij Qᵀ − Q C_ji Pᵀ + Q C_jj Qᵀ plus E[r]².
 */
export function expectedSquares(
  moments: ReturnType<typeof jointMoments>,
  i: number,
  P: Matrix,
  p: number[],
  j: number,
  Q: Matrix,
  q: number[],
): number[] {
  const { mean, cov } = moments;
  const Cov = addM(
    addM(matMul(matMul(P, cov[i]![i]!), transpose(P)), matMul(matMul(Q, cov[j]![j]!), transpose(Q))),
    addM(matMul(matMul(P, cov[i]![j]!), transpose(Q)), matMul(matMul(Q, cov[j]![i]!), transpose(P))),
    -1,
  );
  const r = sub(
    matVec(P, mean[i]!).map((v, k) => v + p[k]!),
    matVec(Q, mean[j]!).map((v, k) => v + q[k]!),
  );
  return r.map((v, k) => Cov[k]![k]! + v * v);
}

const identity = (d: number): Matrix => diag(new Array(d).fill(1));
const zeros = (d: number) => new Array<number>(d).fill(0);

/** E log N(z_i; M z_j + c, diag e^{logVar}) under the joint Gaussian. */
function expectedLogNormal(moments: ReturnType<typeof jointMoments>, i: number, j: number, layer: LinearLayer): number {
  const d = layer.c.length;
  const sq = expectedSquares(moments, i, identity(d), zeros(d), j, layer.M, layer.c);
  return sq.reduce((s, v, k) => s - 0.5 * (Math.log(2 * Math.PI) + layer.logVar[k]! + v / Math.exp(layer.logVar[k]!)), 0);
}

/** Every term's expectation over x ~ N(m, S) and the path, from the joint Gaussian. */
export function expectedTerms(h: LinearHvae, m: number[], S: Matrix): HvaeElboTerms<number> {
  const T = h.encoders.length;
  const moments = jointMoments(h, m, S);
  const consistency: number[] = [];
  for (let t = 1; t < T; t++)
    consistency.push(expectedLogNormal(moments, t, t - 1, h.encoders[t - 1]!) - expectedLogNormal(moments, t, t + 1, h.decoders[t]!));
  const dT = h.encoders[T - 1]!.c.length;
  const standard: LinearLayer = { M: zeros(dT).map(() => zeros(moments.mean[T - 1]!.length)), c: zeros(dT), logVar: zeros(dT) };
  const prior = expectedLogNormal(moments, T, T - 1, h.encoders[T - 1]!) - expectedLogNormal(moments, T, T - 1, standard);
  return { reconstruction: -expectedLogNormal(moments, 0, 1, h.decoders[0]!), consistency, prior };
}

/**
 * The expectation of the analytic KL(q(z_t|z_{t−1}) ‖ p(z_t|z_{t+1})) given z_{t−1} and z_{t+1}
 * (t = 1..T−1): what the consistency term would estimate if z_{t+1} were drawn independently of z_t.
 */
export function expectedConditionalKl(h: LinearHvae, m: number[], S: Matrix, t: number): number {
  const moments = jointMoments(h, m, S);
  const q = h.encoders[t - 1]!;
  const p = h.decoders[t]!;
  const sq = expectedSquares(moments, t - 1, q.M, q.c, t + 1, p.M, p.c);
  return sq.reduce((s, v, k) => s + 0.5 * (p.logVar[k]! - q.logVar[k]! + (Math.exp(q.logVar[k]!) + v) / Math.exp(p.logVar[k]!) - 1), 0);
}
