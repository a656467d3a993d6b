/**
 * Masked samplers against exact distributions of a small sequence distribution, computed by
 * enumeration (src/testing/masked-oracle.ts): Pearson's χ² at level 5·10⁻⁴ with bins of expected
 * count ≥ 5, fixed seeds.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Rng } from "../engine/index.js";
import { useEngine } from "../testing/helpers.js";
import {
  ancestralDistribution,
  asDistribution,
  chiSquare,
  conditionalOn,
  oracleDenoiser,
  productOfMarginals,
  type SequenceDistribution,
  small,
} from "../testing/masked-oracle.js";
import { ancestralSampler } from "./ancestral.js";
import type { MaskedSampleOptions } from "./sampler.js";
import { maskedSamplerByName, maskedSamplerNames } from "./samplers.js";
import { getMaskingSchedule } from "./schedule.js";
import { allMasked, infillStart } from "./start.js";

useEngine();

const { vocabulary: V, length: L } = small;
const oracle = oracleDenoiser(small);

function draw(name: string, z: Int32Array, n: number, seed: number, options: MaskedSampleOptions) {
  return maskedSamplerByName(name).sample({ denoiser: oracle, params: {}, z, n, length: L }, new Rng(seed), options);
}

/** Total variation between two distributions given as key → probability. */
function totalVariation(a: Map<string, number>, b: SequenceDistribution): number {
  const keys = new Set([...a.keys(), ...b.sequences.map((s) => s.join(","))]);
  const pb = new Map(b.sequences.map((s, k) => [s.join(","), b.probabilities[k]!]));
  return 0.5 * [...keys].reduce((t, k) => t + Math.abs((a.get(k) ?? 0) - (pb.get(k) ?? 0)), 0);
}

describe("ancestral sampling (MDLM) with the exact denoiser", () => {
  it("with many steps reproduces the distribution; its exact N-step law tends to it as 3/N", () => {
    const N = 1000;
    const exact = ancestralDistribution(small, N, allMasked(1, L, V));
    const tv = totalVariation(exact, small);
    assert.ok(tv > 0 && tv < 3 / N, `TV(N = ${N}) = ${tv}`);
    const n = 4000;
    const { ids } = draw("ancestral", allMasked(n, L, V), n, 1, { steps: N });
    // outside the support: at most the TV's share (two tokens drawn in one step), within 4 standard errors
    const { outside } = chiSquare(small, ids, n);
    assert.ok(outside <= n * tv + 4 * Math.sqrt(n * tv), `${outside} of ${n} outside the support`);
    const vsExact = chiSquare(asDistribution(exact, V, L), ids, n);
    assert.ok(vsExact.statistic < vsExact.critical, `χ² ${vsExact.statistic} ≥ ${vsExact.critical}`);
  });

  it("with one step draws the product of the marginals (the factorisation error of few steps)", () => {
    const product = productOfMarginals(small);
    const exact = ancestralDistribution(small, 1, allMasked(1, L, V));
    assert.ok(totalVariation(exact, product) < 1e-12, "the enumerated one-step law is the product of marginals");
    const n = 4000;
    const { ids, nfe, evaluations } = draw("ancestral", allMasked(n, L, V), n, 2, { steps: 1 });
    assert.equal(nfe, 1);
    assert.equal(evaluations, n);
    const x2 = chiSquare(product, ids, n);
    assert.ok(x2.statistic < x2.critical, `χ² ${x2.statistic} ≥ ${x2.critical}`);
    const outside = product.probabilities.reduce(
      (a, p, k) => a + (small.sequences.some((s) => s.join() === product.sequences[k]!.join()) ? 0 : p),
      0,
    );
    assert.ok(outside > 0.5, `the product of marginals puts ${outside} outside the support`);
    const observed = chiSquare(small, ids, n).outside;
    assert.ok(Math.abs(observed / n - outside) < 4 * Math.sqrt((outside * (1 - outside)) / n), `${observed} outside of ${n}`);
  });

  it("follows its exact law at few steps, for N = 2, 4, 8", () => {
    const n = 3000;
    for (const N of [2, 4, 8]) {
      const { ids, nfe } = draw("ancestral", allMasked(n, L, V), n, 10 + N, { steps: N });
      assert.ok(nfe <= N);
      const x2 = chiSquare(asDistribution(ancestralDistribution(small, N, allMasked(1, L, V)), V, L), ids, n);
      assert.ok(x2.statistic < x2.critical, `N = ${N}: χ² ${x2.statistic} ≥ ${x2.critical}`);
    }
  });

  it("caching unchanged rows gives the same samples with fewer evaluations", () => {
    const n = 200;
    const N = 200;
    const steps: number[] = [];
    const cached = draw("ancestral", allMasked(n, L, V), n, 3, { steps: N, onStep: (info) => steps.push(info.step) });
    const plain = draw("ancestral", allMasked(n, L, V), n, 3, { steps: N, cache: false });
    assert.deepEqual(cached.ids, plain.ids);
    assert.deepEqual(
      steps,
      Array.from({ length: N }, (_, i) => N - i),
    );
    // a row is evaluated first, then only after a step that changed it and left a mask: ≤ L times
    assert.ok(cached.evaluations <= n * L, `${cached.evaluations} row evaluations`);
    assert.ok(plain.evaluations > 10 * cached.evaluations, `${plain.evaluations} vs ${cached.evaluations}`);
    assert.ok(cached.nfe < plain.nfe, `${cached.nfe} vs ${plain.nfe} calls`);
    // the sub-batches are padded to powers of two (at most n): few shapes for a jitted network
    const sizes = new Set<number>();
    const recording: typeof oracle = {
      ...oracle,
      logits(p, z, y) {
        sizes.add(z.shape[0]!);
        return oracle.logits(p, z, y);
      },
    };
    const again = maskedSamplerByName("ancestral").sample(
      { denoiser: recording, params: {}, z: allMasked(n, L, V), n, length: L },
      new Rng(3),
      { steps: N },
    );
    assert.deepEqual(again.ids, cached.ids);
    assert.ok(
      [...sizes].every((B) => B === n || (B < n && 2 ** Math.round(Math.log2(B)) === B)),
      `batch sizes ${[...sizes]}`,
    );
  });
});

describe("confidence-ordered unmasking with the exact denoiser", () => {
  it("never leaves the support when it unmasks one token per step (N = L), where ancestral does", () => {
    const n = 2000;
    const confident = draw("confidence", allMasked(n, L, V), n, 4, { steps: L });
    assert.equal(chiSquare(small, confident.ids, n).outside, 0);
    const ancestral = draw("ancestral", allMasked(n, L, V), n, 4, { steps: L });
    assert.ok(chiSquare(small, ancestral.ids, n).outside > 0.05 * n);
  });

  it("unmasks the most confident position first", () => {
    // position 1 is always word 1 (p = 1); positions 0 and 2 are even coin flips
    const certain: SequenceDistribution = {
      vocabulary: V,
      length: L,
      sequences: [Int32Array.of(0, 1, 2), Int32Array.of(3, 1, 0)],
      probabilities: [0.5, 0.5],
    };
    const n = 50;
    let first: Int32Array | undefined;
    maskedSamplerByName("confidence").sample(
      { denoiser: oracleDenoiser(certain), params: {}, z: allMasked(n, L, V), n, length: L },
      new Rng(8),
      {
        steps: L,
        onStep: (info) => {
          first ??= Int32Array.from(info.z);
        },
      },
    );
    assert.deepEqual(
      first,
      Int32Array.from({ length: n * L }, (_, i) => (i % L === 1 ? 1 : V)),
    );
  });

  it("unmasks the schedule's count of tokens at each step, on either schedule", () => {
    for (const schedule of ["linear", "cosine"]) {
      const masked: number[] = [];
      draw("confidence", allMasked(5, L, V), 5, 5, {
        steps: 4,
        schedule: getMaskingSchedule(schedule),
        onStep: (info) => masked.push(info.masked),
      });
      const expected = [3, 2, 1].map((k) => 5 * Math.round(L * (schedule === "linear" ? k / 4 : 1 - Math.cos((Math.PI * k) / 8))));
      assert.deepEqual(masked, [...expected, 0], schedule);
    }
  });
});

describe("infilling with every masked sampler", () => {
  const known = { ids: Int32Array.of(0, 1, 0), mask: Float32Array.of(0, 1, 0) }; // x_1 = 1 fixed
  const n = 3000;
  const z = infillStart(
    {
      ids: Int32Array.from({ length: n * L }, (_, i) => known.ids[i % L]!),
      mask: Float32Array.from({ length: n * L }, (_, i) => known.mask[i % L]!),
    },
    V,
  );
  const given = conditionalOn(small, [V, 1, V]);

  for (const name of maskedSamplerNames) {
    it(`${name}: keeps the fixed tokens and stays in the conditional support`, () => {
      const { ids } = draw(name, z, n, 6, { steps: 16 });
      for (let b = 0; b < n; b++) assert.equal(ids[b * L + 1], 1, `row ${b}`);
      if (name === "confidence") assert.equal(chiSquare(given, ids, n).outside, 0);
    });
  }

  it("ancestral with many steps samples the exact conditional given the fixed tokens", () => {
    const N = 1000;
    const exact = ancestralDistribution(small, N, Int32Array.of(V, 1, V));
    const tv = totalVariation(exact, given);
    assert.ok(tv < 1 / N, `TV(N = ${N}) = ${tv}`); // two free tokens drawn in one step: probability 1/N
    const { ids } = draw("ancestral", z, n, 7, { steps: N });
    const { outside } = chiSquare(given, ids, n);
    assert.ok(outside <= n * tv + 4 * Math.sqrt(n * tv), `${outside} of ${n} outside the support`);
    const x2 = chiSquare(asDistribution(exact, V, L), ids, n);
    assert.ok(x2.statistic < x2.critical, `χ² ${x2.statistic} ≥ ${x2.critical}`);
  });

  it("the initial z puts [MASK] exactly where the mask is 0", () => {
    assert.deepEqual(infillStart(known, V), Int32Array.of(V, 1, V));
    assert.throws(() => infillStart({ ids: Int32Array.of(4), mask: [1] }, V), /not a word/);
  });
});

describe("masked sampler errors", () => {
  it("name the problem: an unknown sampler, steps < 1, a z of the wrong size, labels for an unconditional denoiser", () => {
    assert.throws(() => maskedSamplerByName("ddim"), /unknown masked sampler "ddim" \(known: ancestral, confidence\)/);
    assert.throws(() => draw("ancestral", allMasked(2, L, V), 2, 1, { steps: 0 }), /steps must be an integer ≥ 1/);
    assert.throws(() => draw("ancestral", allMasked(2, L, V), 3, 1, {}), /6 ids, expected n·L = 3·3/);
    assert.throws(
      () =>
        ancestralSampler.sample(
          { denoiser: oracle, params: {}, z: allMasked(1, L, V), n: 1, length: L, labels: Int32Array.of(0) },
          new Rng(1),
        ),
      /labels were given for an unconditional denoiser/,
    );
  });
});
