/**
 * The commands say what they do and do what they say: --n limits eval, a text run is refused by
 * the commands that cannot take it, every argument is checked before any work, the text commands'
 * help states the sampler they use, misspellings get a suggestion, and long sampling shows progress.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { oracle, tempDir, vdm } from "../testing/cli.js";
import { textRunConfig } from "../text/config.js";
import { loadTextCorpus } from "../text/data.js";
import { textSamplerDefaults } from "../text/sample.js";
import { Tokenizer } from "../text/tokenizer.js";
import { closest, editDistance } from "./args.js";
import { Progress } from "./progress.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

describe("vdm eval --n", () => {
  it("limits the ELBO, the ODE likelihood and the samples to n held-out points, and reports n", () => {
    const r = vdm(
      "eval",
      ...oracle("gaussian"),
      "--timesteps",
      "100",
      "--sample-steps",
      "5",
      "--likelihood",
      "ode",
      "--ode-steps",
      "2",
      "--n",
      "30",
      "--json",
      "--backend",
      "jax",
    );
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.n, 30, "held-out points");
    assert.equal(out.samples, 30, "samples for the energy distance");
    assert.match(r.stderr, /^ODE likelihood 30\/30 /m, "the ODE integrates the 30 points only");
    assert.doesNotMatch(r.stderr, /\/2000 /, "not the whole test set");
  });
});

describe("a Diffusion-LM (text) run given to a command for 2-D and image models", () => {
  // the commands refuse it from its config alone, before loading any weights
  const dir = tempDir("vdm-text-run-");
  const corpus = loadTextCorpus("text:restaurants", 0, { train: 50, test: 10 });
  writeFileSync(join(dir, "config.json"), JSON.stringify(textRunConfig(corpus, Tokenizer.fromSentences(corpus.train), { steps: 1 })));
  const out = join(dir, "out");

  for (const args of [
    ["eval"],
    ["nfe", "--out", out],
    ["export", "--out", join(dir, "x.onnx")],
    ["guidance", "--guidance", "cfg", "--out", out],
    ["score-field", "--out", join(dir, "x.png")],
    ["elbo", "--estimators", "denoising", "--out", out],
  ]) {
    it(`vdm ${args[0]} says so and names the text commands`, () => {
      const r = vdm(args[0]!, "--model", dir, ...args.slice(1));
      assert.equal(r.code, 2, r.stderr);
      assert.equal(
        r.stderr.trim(),
        `vdm ${args[0]}: ${dir} is a Diffusion-LM (text) run; this command works on 2-D and image models. For a text run: vdm sample --model ${dir} (sentences) or vdm eval-text --model ${dir}`,
      );
      assert.equal(existsSync(out) || existsSync(join(dir, "x.png")) || existsSync(join(dir, "x.onnx")), false, "nothing written");
    });
  }

  it("vdm sample --out FILE.png is refused: sentences go to .txt or .json", () => {
    const r = vdm("sample", "--model", dir, "--out", join(dir, "x.png"));
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--out of a text run's samples must end in \.txt or \.json/);
    assert.equal(existsSync(join(dir, "x.png")), false);
  });

  it("vdm eval-text refuses a 2-D model and points to vdm eval", () => {
    const r = vdm("eval-text", "--model", join(ROOT, "models/fashion-mnist"));
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /is not a text run; .*vdm eval --model/);
  });
});

describe("every argument is checked before any work", () => {
  it("vdm nfe with a bad sampler in --samplers fails before sampling the good ones", () => {
    const out = join(tempDir("vdm-nfe-"), "nfe");
    const r = vdm("nfe", ...oracle("gaussian"), "--samplers", "dpm++2m,bogus", "--n", "20000", "--out", out, "--backend", "jax");
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /unknown sampler "bogus"/);
    assert.doesNotMatch(r.stderr, /dpm\+\+2m\s+N=/, "no row of the first sampler");
    assert.equal(existsSync(out), false, "nothing written");
  });

  it("number lists: an empty entry is an error, not a zero", () => {
    const g = vdm(
      "guidance",
      ...oracle("eight-gaussians"),
      "--guidance",
      "classifier",
      "--scales",
      "1,,3",
      "--out",
      join(tmpdir(), "vdm-never"),
    );
    assert.equal(g.code, 2, g.stderr);
    assert.match(g.stderr, /--scales must be a comma-separated list of numbers >= 0, got "1,,3"/);
    const s = vdm("score-field", ...oracle("gaussian"), "--sigmas", "0,,1", "--out", join(tmpdir(), "vdm-never.png"));
    assert.equal(s.code, 2, s.stderr);
    assert.match(s.stderr, /--sigmas must be a comma-separated list of numbers >= 0/);
  });
});

describe("flags the README promises", () => {
  it("vdm guidance takes --backend", () => {
    const out = join(tempDir("vdm-guidance-"), "g");
    const r = vdm(
      "guidance",
      ...oracle("eight-gaussians"),
      "--guidance",
      "classifier",
      "--scales",
      "1",
      "--n",
      "5",
      "--sample-steps",
      "5",
      "--backend",
      "jax",
      "--out",
      out,
      "--json",
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).length, 8, "one row per class");
  });

  it("vdm schedule --model refuses an --out that is not .svg before loading the run", () => {
    const out = join(tempDir("vdm-schedule-"), "snr.png");
    const r = vdm("schedule", "--model", "fashion-mnist", "--out", out);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--out must be a \.svg file/);
    assert.equal(existsSync(out), false);
  });
});

describe("the text commands' help", () => {
  it("states the sampler and levels they use (textSamplerDefaults), not the 2-D and image default", () => {
    const r = vdm("eval-text", "--help");
    assert.equal(r.code, 0, r.stderr);
    const text = r.stdout.replace(/\s+/g, " ");
    assert.match(
      text,
      new RegExp(`--sampler NAME the sampler \\(see below\\) \\(default: ${textSamplerDefaults.sampler.replace(/\+/g, "\\+")}\\)`),
    );
    assert.match(
      text,
      new RegExp(`--sample-steps N the number of levels N \\(default: ${textSamplerDefaults.steps} for ${textSamplerDefaults.sampler}`),
    );
    assert.equal(textSamplerDefaults.sampler, "ddim", "the measured default (README, Diffusion-LM)");
  });
});

describe("did you mean", () => {
  it("suggests the nearest command and flag", () => {
    const c = vdm("trian");
    assert.equal(c.code, 2);
    assert.equal(c.stderr.trim(), `vdm: unknown command "trian"; did you mean "train"?`);
    const f = vdm("train", "--stpes", "10");
    assert.equal(f.code, 2);
    assert.equal(f.stderr.trim(), "vdm train: unknown flag --stpes; did you mean --steps?");
    const none = vdm("sample", "--zzzzzz");
    assert.equal(none.stderr.trim(), "vdm sample: unknown flag --zzzzzz (--help lists the flags)");
  });

  it("edit distance counts a swap of neighbours as one edit; far words get no suggestion", () => {
    assert.equal(editDistance("stpes", "steps"), 1);
    assert.equal(editDistance("kitten", "sitting"), 3);
    assert.equal(editDistance("", "abc"), 3);
    assert.equal(closest("smaple-steps", ["sample-steps", "steps", "seed"]), "sample-steps");
    assert.equal(closest("bogus", ["steps", "seed", "out"]), undefined);
  });
});

describe("progress", () => {
  it("vdm sample of many points draws them in batches and says how far it is", () => {
    const out = join(tempDir("vdm-many-"), "x.npy");
    const r = vdm(
      "sample",
      ...oracle("gaussian"),
      "--n",
      "200001",
      "--sampler",
      "ddim",
      "--sample-steps",
      "2",
      "--out",
      out,
      "--backend",
      "jax",
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^samples 100000\/200001 /m);
    assert.match(r.stderr, /^samples 200001\/200001 /m);
  });
});

describe("Progress", () => {
  it("prints a count once: the last step and the end of its batch both reaching the total make one line", () => {
    const lines: string[] = [];
    const stream = { isTTY: false, write: (s: string) => void lines.push(s) } as unknown as NodeJS.WriteStream;
    const progress = new Progress("ODE likelihood", 50, 0, stream);
    for (const done of [10, 50, 50]) progress.update(done);
    assert.deepEqual(
      lines.map((l) => l.split(" ").slice(0, 3).join(" ")),
      ["ODE likelihood 10/50", "ODE likelihood 50/50"],
    );
  });
});

describe("the README's library example", () => {
  it("does not name a variable process (Node's global)", () => {
    for (const file of ["README.md", "src/index.ts"]) {
      const text = readFileSync(join(ROOT, file), "utf8");
      assert.doesNotMatch(text, /const \{[^}]*\bprocess\s*[,}]/, file);
    }
  });
});
