/** The built `vdm` binary, end to end: the score-based and few-step samplers, learned schedules, the ELBO's estimators, the ODE likelihood and `vdm nfe`. */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { oracle, tempDir, vdm, vdmJson } from "../testing/cli.js";
import { assertClose } from "../testing/helpers.js";

describe("score-based commands", () => {
  const dir = tempDir("vdm-score-");

  it("samples with each sampler's flags, draws a score field, and runs the Langevin demo", () => {
    const runs: string[][] = [
      ["--sampler", "langevin", "--sigma", "0", "--langevin-steps", "50", "--init", "uniform:-8:8"],
      [
        "--sampler",
        "annealed-langevin",
        "--levels",
        "5",
        "--steps-per-level",
        "10",
        "--sigma-max",
        "20",
        "--sigma-min",
        "0.5",
        "--epsilon",
        "0.01",
      ],
      ["--sampler", "pc", "--snr", "0.16", "--corrector-steps", "1"],
    ];
    for (const extra of runs) {
      const r = vdm("sample", ...oracle("ncsn-gmm"), "--timesteps", "50", "--n", "100", "--out", join(dir, "x.json"), ...extra);
      assert.equal(r.code, 0, `${extra.join(" ")}: ${r.stderr}`);
      assert.equal(JSON.parse(readFileSync(join(dir, "x.json"), "utf8")).length, 100);
    }
    const f = vdm("score-field", ...oracle("ncsn-gmm"), "--sigmas", "0,2", "--grid", "5", "--out", join(dir, "f.png"));
    assert.equal(f.code, 0, f.stderr);
    assert.ok(existsSync(join(dir, "f.png")));
    const modes = vdmJson("langevin-demo", "--n", "200", "--steps", "100", "--out", dir, "--json");
    assert.equal(modes.plain.length, 2);
    assert.ok(existsSync(join(dir, "langevin-vs-annealed.png")));
  });

  it("bad sampler input is named", () => {
    const cases: [string[], RegExp][] = [
      [
        ["--sampler", "euler2"],
        /unknown sampler "euler2" \(known: dpm\+\+2m, dpm\+\+3m, unipc, ipndm, ddim, euler, heun, ancestral, pc, langevin, annealed-langevin[,)]/,
      ],
      [["--sampler", "ddim", "--spacing", "quadratic"], /--spacing must be one of uniform, log-snr, trailing, got "quadratic"/],
      [["--sampler", "ddim", "--eta=-0.5"], /--eta must be a non-negative number, got "-0.5"/],
      [["--sampler", "dpm++2m", "--timesteps", "50", "--sample-steps", "80"], /--sample-steps 80 exceeds the model's T = 50 steps/],
      [["--sampler", "heun", "--max-sigma", "0"], /--max-sigma must be a positive number, got "0"/],
      [["--sampler", "langevin", "--step-size=-1"], /--step-size must be a positive number, got "-1"/],
      [["--sampler", "annealed-langevin", "--init", "box"], /--init must be uniform:LOW:HIGH/],
      [["--sampler", "annealed-langevin", "--sigma-min", "30"], /need sigmaMax > sigmaMin > 0/],
    ];
    for (const [extra, pattern] of cases) {
      const r = vdm("sample", ...oracle("gaussian"), "--n", "10", "--out", join(dir, "y.json"), ...extra);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, pattern);
    }
  });
});

describe("learned schedules and the ELBO's estimators from the command line", () => {
  const dir = tempDir("vdm-learned-");
  const run = join(dir, "run");

  it("trains a learned schedule, draws its SNR(t), and samples it with every sampler", () => {
    const metrics = vdmJson(
      "train",
      "--data",
      "moons",
      "--schedule",
      "learned",
      "--steps",
      "100",
      "--hidden",
      "32",
      "--out",
      run,
      "--json",
    );
    assert.equal(metrics.loss, "elbo");
    assert.ok(
      Number.isFinite(metrics.diffusionVariance) && metrics.diffusionVariance > 0,
      `diffusion variance ${metrics.diffusionVariance}`,
    );
    const s = vdm("schedule", "--model", run, "--json");
    assert.equal(s.code, 0, s.stderr);
    const schedule = JSON.parse(s.stdout);
    assert.equal(schedule.schedule, "learned");
    assert.ok(schedule.gammaMin < schedule.gammaMax && existsSync(schedule.chart), s.stdout);
    for (const sampler of [
      "dpm++2m",
      "dpm++3m",
      "unipc",
      "ipndm",
      "ddim",
      "euler",
      "heun",
      "ancestral",
      "pc",
      "langevin",
      "annealed-langevin",
    ]) {
      const extra =
        sampler === "langevin"
          ? ["--langevin-steps", "20", "--sigma", "0.1"]
          : sampler === "annealed-langevin"
            ? ["--levels", "3", "--steps-per-level", "5"]
            : ["--sample-steps", "10"];
      const r = vdm("sample", "--model", run, "--sampler", sampler, "--n", "50", "--out", join(dir, "x.json"), ...extra);
      assert.equal(r.code, 0, `${sampler}: ${r.stderr}`);
      const points = JSON.parse(readFileSync(join(dir, "x.json"), "utf8")) as number[][];
      assert.equal(points.length, 50, sampler);
      assert.ok(points.flat().every(Number.isFinite), `${sampler}: non-finite samples`);
    }
    // a trained model has no score at σ̃ = 0 (the oracle has): refused rather than returning NaN
    const clean = vdm("sample", "--model", run, "--sampler", "langevin", "--n", "5", "--out", join(dir, "x.json"));
    assert.equal(clean.code, 2);
    assert.match(clean.stderr, /--sigma 0 asks a trained model for the clean data's score, which it does not have/);
  });

  it("vdm elbo --estimators compares the estimators for a trained run and for the oracle", () => {
    const result = vdmJson(
      "elbo",
      "--estimators",
      "denoising,consistency",
      "--model",
      run,
      "--timesteps",
      "1,20",
      "--n",
      "50",
      "--draws",
      "3",
      "--out",
      dir,
      "--json",
    );
    const [one, twenty] = result.studies;
    // T = 1: the two forms are the same estimator (their prior KLs are two float32 formulas for one quantity)
    assertClose([one.estimators.consistency.nats], [one.estimators.denoising.nats], { rtol: 1e-6, label: "T = 1" });
    assert.equal(twenty.estimators.consistency.perT.t.length, 19);
    assert.ok(existsSync(join(dir, "variance-T20.svg")));
    const bad = vdm("elbo", "--estimators", "denoising,telescoping");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown estimator "telescoping" \(known: denoising, consistency, consistency-kl\)/);
  });

  it("a learned schedule with the simple loss, or for a classifier, is refused with the reason", () => {
    const r = vdm("train", "--data", "moons", "--schedule", "learned", "--loss", "simple", "--out", join(dir, "bad"));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /a learned schedule trains through the ELBO \(loss "elbo"\), not the "simple" loss/);
    const u = vdm("train", "--data", "moons", "--schedule", "learnt", "--out", join(dir, "bad"));
    assert.match(u.stderr, /unknown schedule "learnt" \(known: linear, cosine, log-snr-linear, geometric, sqrt, learned, learned-linear\)/);
  });
});

describe("few-step samplers, the ODE likelihood and vdm nfe", () => {
  const dir = tempDir("vdm-fast-");

  it("samples the oracle with every ODE sampler, spacing and η, each near the data's moments", () => {
    const runs: string[][] = [
      [],
      ["--sampler", "dpm++3m", "--spacing", "uniform"],
      ["--sampler", "ddim", "--eta", "1", "--sample-steps", "50"],
      ["--sampler", "euler", "--spacing", "trailing"],
      ["--sampler", "heun", "--sample-steps", "10", "--spacing", "log-snr", "--max-sigma", "80"],
    ];
    for (const extra of runs) {
      for (const T of ["0", "1000"]) {
        const r = vdm("sample", ...oracle("gaussian"), "--timesteps", T, "--n", "2000", "--out", join(dir, "x.json"), ...extra);
        assert.equal(r.code, 0, `${extra.join(" ")}: ${r.stderr}`);
        const x: number[][] = JSON.parse(readFileSync(join(dir, "x.json"), "utf8"));
        // N((1, −0.5), diag(0.36, 1.44)): the means within 5 standard errors plus 0.05 of discretisation bias
        const mean = [0, 1].map((d) => x.reduce((s, p) => s + p[d]!, 0) / x.length);
        [1, -0.5].forEach((mu, d) =>
          assert.ok(
            Math.abs(mean[d]! - mu) < 5 * Math.sqrt([0.36, 1.44][d]! / 2000) + 0.05,
            `${extra.join(" ")} T=${T}: mean[${d}] ${mean[d]}`,
          ),
        );
      }
    }
  });

  it("vdm eval --likelihood ode gives the oracle's exact log-likelihood next to the ELBO", () => {
    const e = vdmJson("eval", ...oracle("eight-gaussians"), "--timesteps", "100", "--likelihood", "ode", "--n", "100", "--json");
    assert.equal(e.ode.divergence, "exact");
    assert.ok(e.ode.evaluations > 10, `evaluations ${e.ode.evaluations}`);
    // same held-out points: the ODE's −log p and the exact one agree far inside their standard error
    assert.ok(Math.abs(e.ode.nats - e.exact.nats) < 0.01, `ODE ${e.ode.nats} vs exact ${e.exact.nats}`);
    assert.ok(e.ode.natsStdError > 0 && Number.isFinite(e.bpd));
    const bad = vdm("eval", ...oracle("gaussian"), "--likelihood", "exact");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--likelihood must be elbo or ode, got "exact"/);
  });

  it("vdm nfe tabulates moment errors against NFE, writes JSON and a chart", () => {
    const out = join(dir, "nfe");
    const result = vdmJson(
      "nfe",
      ...oracle("gaussian"),
      "--timesteps",
      "0",
      "--samplers",
      "ddim,heun",
      "--steps",
      "4,16",
      "--n",
      "4000",
      "--out",
      out,
      "--json",
    );
    assert.deepEqual(
      result.rows.map((row: { sampler: string; nfe: number }) => [row.sampler, row.nfe]),
      [
        ["ddim", 4],
        ["ddim", 16],
        ["heun", 7],
        ["heun", 31],
      ],
    );
    const ddim = result.rows.filter((row: { sampler: string }) => row.sampler === "ddim");
    assert.ok(ddim[1].error < ddim[0].error, `ddim error should fall with NFE: ${ddim[0].error} → ${ddim[1].error}`);
    assert.deepEqual(JSON.parse(readFileSync(join(out, "nfe.json"), "utf8")).rows.length, 4);
    assert.match(readFileSync(join(out, "nfe.svg"), "utf8"), /<svg[\s\S]*ddim[\s\S]*heun[\s\S]*<\/svg>/);
  });
});
