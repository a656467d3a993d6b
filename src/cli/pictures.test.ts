/** The CLI's pictures: score-field's levels for a trained model, and --zoom. */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { oracle, tempDir, vdm } from "../testing/cli.js";

describe("vdm score-field on a trained model", () => {
  const dir = tempDir("vdm-pictures-");
  const run = join(dir, "run");
  const trained = vdm(
    "train",
    "--data",
    "moons",
    "--out",
    run,
    "--steps",
    "30",
    "--timesteps",
    "50",
    "--hidden",
    "16",
    "--quiet",
    "--json",
  );

  it("starts its default levels at the model's least noisy one, σ̃_min = e^{γ/2} (σ̃ = 0 drew an empty panel)", () => {
    assert.equal(trained.code, 0, trained.stderr);
    const gamma = JSON.parse(readFileSync(join(run, "metrics.json"), "utf8")).gamma as { reconstruction: number; prior: number };
    const r = vdm("score-field", "--model", run, "--grid", "5", "--out", join(dir, "f.png"), "--json");
    assert.equal(r.code, 0, r.stderr);
    const { sigmas } = JSON.parse(r.stdout) as { sigmas: number[] };
    assert.ok(Math.abs(sigmas[0]! - Math.exp(gamma.reconstruction / 2)) < 1e-9 * sigmas[0]!, `${sigmas[0]} vs γ ${gamma.reconstruction}`);
    assert.deepEqual(
      sigmas.slice(1),
      [1, 5].filter((s) => s <= Math.exp(gamma.prior / 2)),
    );
    assert.ok(existsSync(join(dir, "f.png")));
  });

  it("refuses σ̃ = 0 and levels it was not trained at, naming its range", () => {
    const r = vdm("score-field", "--model", run, "--sigmas", "0,1", "--out", join(dir, "g.png"));
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /--sigmas 0: a trained model learned the score only at σ̃ from [\d.e+-]+ \(its least noisy level\) to [\d.e+-]+; at σ̃ = 0 \(the clean data\) its score is undefined/,
    );
    assert.ok(!existsSync(join(dir, "g.png")));
    assert.equal(vdm("score-field", "--model", run, "--sigmas", "1e9", "--out", join(dir, "g.png")).code, 2);
  });
});

describe("--zoom", () => {
  it("must be an integer in 1..16", () => {
    const dir = tempDir("vdm-zoom-");
    const r = vdm("sample", ...oracle("gaussian"), "--n", "10", "--out", join(dir, "x.png"), "--zoom", "0");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--zoom must be an integer in \[1, 16\], got "0"/);
  });
});
