/**
 * Float64 references written from the formulas, shared by the exact tests: the variance-preserving
 * levels of a log-SNR γ, and the cosine schedule (improved DDPM, s = 0.008) in closed form.
 */

/** sigmoid(x) = 1/(1 + e^{−x}). */
export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** α = √sigmoid(−γ), the signal scale at log-SNR −γ. */
export const alpha = (gamma: number): number => Math.sqrt(sigmoid(-gamma));

/** σ = √sigmoid(γ), the noise scale at log-SNR −γ. */
export const sigma = (gamma: number): number => Math.sqrt(sigmoid(gamma));

// cosine: ᾱ = f(t)/f(0), f = cos²(b), b = (t + s)/(1 + s)·π/2
const S = 0.008;
const angle = (t: number) => ((t + S) / (1 + S)) * (Math.PI / 2);
const f = (t: number) => Math.cos(angle(t)) ** 2;
// f(0) − f(t) = (cos b₀ − cos b)(cos b₀ + cos b), cos b₀ − cos b = 2 sin((b + b₀)/2) sin((b − b₀)/2): no cancellation near t = 0
const fDrop = (t: number) =>
  2 * Math.sin((angle(t) + angle(0)) / 2) * Math.sin((angle(t) - angle(0)) / 2) * (Math.cos(angle(0)) + Math.cos(angle(t)));

/** The cosine schedule's γ(t) = log((f(0) − f(t))/f(t)), its derivative and its inverse, in float64. */
export const cosineClosedForm = {
  gamma: (t: number): number => Math.log(fDrop(t) / f(t)),
  // γ = log(f(0) − f) − log f, f' = −sin(2b)·π/(2(1 + s))
  dgamma: (t: number): number => ((Math.sin(2 * angle(t)) * Math.PI) / (2 * (1 + S))) * (1 / fDrop(t) + 1 / f(t)),
  inverse: (gamma: number): number => (Math.acos(Math.sqrt(f(0) / (1 + Math.exp(gamma)))) * 2 * (1 + S)) / Math.PI - S,
};
