/** The built `vdm` binary, end to end: output formats, standard values, and errors. */
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { oracle, tempDir, vdm, vdmJson, vdmWith } from "../testing/cli.js";
import { assertClose } from "../testing/helpers.js";

describe("--backend auto", () => {
  it("picks ONNX Runtime when onnxruntime-node loads, and jax-js (saying why) when it cannot", () => {
    const dir = tempDir("vdm-auto-");
    const args = ["sample", ...oracle("gaussian"), "--n", "50", "--out", join(dir, "x.json"), "--json"];
    const present = vdm(...args);
    assert.equal(present.code, 0, present.stderr);
    assert.match(present.stderr, /^backend: ONNX Runtime \(onnxruntime-node loaded\)$/m);
    // simulate a machine without the package: a preload that makes require("onnxruntime-node") fail
    const block = join(dir, "block.cjs");
    writeFileSync(
      block,
      `const M = require("node:module"); const resolve = M._resolveFilename;
M._resolveFilename = function (request, ...rest) { if (request === "onnxruntime-node") throw new Error("Cannot find module 'onnxruntime-node'"); return resolve.call(this, request, ...rest); };\n`,
    );
    const absent = vdmWith({ NODE_OPTIONS: `--require ${block}` }, ...args);
    assert.equal(absent.code, 0, absent.stderr);
    assert.match(absent.stderr, /^! vdm: ONNX Runtime is not available, so this runs on jax-js: training and sampling are 3–5× slower\.$/m);
    assert.match(absent.stderr, /^! Why: onnxruntime-node could not be loaded: Cannot find module 'onnxruntime-node'$/m);
    assert.match(absent.stderr, /^! Fix: npm install onnxruntime-node --onnxruntime-node-install=skip$/m);
    assert.equal(absent.stderr.match(/not available/g)?.length, 1, "said once");
    assert.equal(JSON.parse(readFileSync(join(dir, "x.json"), "utf8")).length, 50);
    const jax = vdm(...args, "--backend", "jax");
    assert.doesNotMatch(jax.stderr, /backend:|not available/, "an explicit choice needs no notice");
  });
});

describe("vdm schedule --json", () => {
  it("cosine, T = 1000: improved-DDPM's β (clipped at 0.999) and their products", () => {
    const out = vdmJson("schedule", "--schedule", "cosine", "--timesteps", "1000", "--json");
    assert.deepEqual(Object.keys(out), ["beta", "alpha", "alphaBar", "snr", "posteriorVariance"]);
    const f = (t: number) => Math.cos((((t + 0.008) / 1.008) * Math.PI) / 2) ** 2;
    const beta = Array.from({ length: 1000 }, (_, i) => Math.min(1 - f((i + 1) / 1000) / f(i / 1000), 0.999));
    let prod = 1;
    const alphaBar = beta.map((b) => (prod *= 1 - b));
    for (const key of Object.keys(out)) assert.equal(out[key].length, 1000, key);
    assertClose(out.beta, beta, { rtol: 1e-7, label: "beta" });
    assertClose(out.alphaBar, alphaBar, { rtol: 1e-7, label: "alphaBar" });
  });

  it("linear, T = 1000: β = linspace(1e-4, 0.02) and β̃_t = β_t(1 − ᾱ_{t−1})/(1 − ᾱ_t)", () => {
    const out = vdmJson("schedule", "--schedule", "linear", "--timesteps", "1000", "--json");
    const beta = Array.from({ length: 1000 }, (_, i) => 1e-4 + ((0.02 - 1e-4) * i) / 999);
    let prod = 1;
    const alphaBar = beta.map((b) => (prod *= 1 - b));
    const post = beta.map((b, i) => (b * (1 - (i ? alphaBar[i - 1]! : 1))) / (1 - alphaBar[i]!));
    assertClose(out.beta, beta, { rtol: 1e-7, label: "beta" });
    assertClose(
      out.alpha,
      beta.map((b) => 1 - b),
      { rtol: 1e-7, label: "alpha" },
    );
    assertClose(
      out.snr,
      alphaBar.map((a) => a / (1 - a)),
      { rtol: 1e-7, label: "snr" },
    );
    assertClose(out.posteriorVariance, post, { rtol: 1e-7, label: "posteriorVariance" });
  });
});

describe("errors", () => {
  it("unknown schedule, bad timesteps, unknown flag and unknown command are named", () => {
    const cases: [string[], RegExp, number][] = [
      [
        ["schedule", "--schedule", "quadratic"],
        /unknown schedule "quadratic" \(known: linear, cosine, log-snr-linear, geometric, sqrt\)/,
        2,
      ],
      [["schedule", "--timesteps=-3"], /--timesteps must be an integer >= 0, got "-3"/, 2],
      [["schedule", "--timesteps", "ten"], /--timesteps must be an integer >= 0, got "ten"/, 2],
      [["schedule", "--bogus"], /unknown flag --bogus/, 2],
      [["elbo", "--data", "moons"], /no closed-form density for data set "moons"/, 2],
      [["fly"], /unknown command "fly"/, 2],
    ];
    for (const [args, pattern, code] of cases) {
      const r = vdm(...args);
      assert.equal(r.code, code, `${args.join(" ")}: exit ${r.code}, stderr ${r.stderr}`);
      assert.match(r.stderr, pattern);
    }
  });
});

describe("vdm elbo --json", () => {
  it("reports the three terms, bits/dim and a gap to log p that shrinks with T", () => {
    const r = vdm("elbo", "--data", "gaussian", "--timesteps", "10,100", "--n", "500", "--json");
    assert.equal(r.code, 0, r.stderr);
    const { reports } = JSON.parse(r.stdout);
    assert.equal(reports.length, 2);
    for (const rep of reports) {
      const sum = rep.terms.reconstruction + rep.terms.prior + rep.terms.diffusion;
      assert.ok(Math.abs(sum - rep.nats) < 1e-9 * Math.abs(sum) + 1e-12);
      assert.ok(Math.abs(rep.bpd - rep.nats / (2 * Math.LN2)) < 1e-12);
    }
    assert.ok(reports[1].gap < reports[0].gap, `gap ${reports[0].gap} → ${reports[1].gap}`);
  });
});

describe("vdm sample / train / eval", () => {
  const dir = tempDir("vdm-cli-");

  it("samples the oracle to JSON, CSV and PNG, with trajectories", () => {
    for (const ext of ["json", "csv", "png"]) {
      const out = join(dir, `s.${ext}`);
      const r = vdm("sample", ...oracle("gaussian"), "--timesteps", "50", "--n", "300", "--out", out, "--trajectory");
      assert.equal(r.code, 0, r.stderr);
      assert.ok(existsSync(out) && existsSync(join(dir, "s.trajectory.json")));
    }
    const points = JSON.parse(readFileSync(join(dir, "s.json"), "utf8"));
    assert.equal(points.length, 300);
    assert.equal(points[0].length, 2);
    const csv = readFileSync(join(dir, "s.csv"), "utf8").trim().split("\n");
    assert.equal(csv[0], "x0,x1");
    assert.equal(csv.length, 301);
    const paths = JSON.parse(readFileSync(join(dir, "s.trajectory.json"), "utf8"));
    assert.equal(paths.length, 8);
    assert.equal(paths[0].length, 20); // one point per step of the default sampler (DPM-Solver++ 2M, 20 steps)
    assert.deepEqual([...readFileSync(join(dir, "s.png")).subarray(1, 4)].map((c) => String.fromCharCode(c)).join(""), "PNG");
  });

  it("trains on a user CSV, writes checkpoint, pictures and metrics, then evaluates and samples it", () => {
    const csv = join(dir, "points.csv");
    writeFileSync(csv, `a,b\n${Array.from({ length: 400 }, (_, i) => `${Math.cos(i)},${Math.sin(i) * 0.5}`).join("\n")}\n`);
    const out = join(dir, "run");
    const r = vdm("train", "--data", csv, "--out", out, "--steps", "30", "--timesteps", "50", "--hidden", "16", "--quiet", "--json");
    assert.equal(r.code, 0, r.stderr);
    for (const f of ["config.json", "state.safetensors", "samples.png", "loss.png", "forward.png", "metrics.json"])
      assert.ok(existsSync(join(out, f)), f);
    const metrics = JSON.parse(r.stdout);
    for (const key of ["bpd", "nats", "energyDistance", "noiseFloor", "stepsPerSecond"]) assert.ok(Number.isFinite(metrics[key]), key);
    const e = vdmJson("eval", "--model", out, "--json", "--n", "100");
    assert.deepEqual(Object.keys(e), [
      "n",
      "samples",
      "bpd",
      "nats",
      "natsStdError",
      "terms",
      "energyDistance",
      "noiseFloor",
      "sampler",
      "nfe",
    ]);
    assert.deepEqual([e.sampler, e.nfe], ["dpm++2m", 20]);
    assert.deepEqual(Object.keys(e.terms), ["reconstruction", "prior", "diffusion"]);
    const s = vdm("sample", "--model", out, "--n", "20", "--out", join(dir, "t.json"));
    assert.equal(s.code, 0, s.stderr);
  });

  it("bad input is named", () => {
    const cases: [string[], RegExp][] = [
      [["sample", "--model", join(dir, "none"), "--out", join(dir, "x.json")], /no checkpoint at .*none \(missing config.json\)/],
      [["sample", ...oracle("moons"), "--out", join(dir, "x.json")], /no closed-form density for data set "moons"/],
      [["sample", ...oracle("gaussian"), "--out", join(dir, "x.txt")], /--out must end in .json, .csv, .png or .npy, got ".*x.txt"/],
      [["train", "--data", "spiral", "--out", join(dir, "y")], /unknown dataset "spiral"/],
      [["train", "--data", "moons"], /--out DIR is required/],
      [["train", "--data", "moons", "--out", join(dir, "z"), "--target", "noise"], /unknown target "noise"/],
    ];
    for (const [args, pattern] of cases) {
      const r = vdm(...args);
      assert.notEqual(r.code, 0, args.join(" "));
      assert.match(r.stderr, pattern);
    }
  });
});
