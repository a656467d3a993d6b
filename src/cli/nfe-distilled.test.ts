/** `vdm nfe --distilled` on a tiny moons teacher and a 2-round distillation: a row of the students at their own N. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { refused, tempDir, vdm, vdmJson } from "../testing/cli.js";

const root = tempDir("vdm-nfe-distilled-");
const teacher = join(root, "teacher");
const fast = join(root, "fast");
const jax = ["--backend", "jax"];

before(() => {
  const t = vdm("train", "--data", "moons", "--out", teacher, "--steps", "30", "--hidden", "16", "--quiet", "--no-report", ...jax);
  assert.equal(t.code, 0, t.stderr);
  const d = vdm(
    "distill",
    "--model",
    teacher,
    "--out",
    fast,
    "--from-steps",
    "4",
    "--to-steps",
    "1",
    "--steps-per-round",
    "4",
    "--n",
    "100",
    "--quiet",
    ...jax,
  );
  assert.equal(d.code, 0, d.stderr);
});

interface Row {
  sampler: string;
  steps: number;
  nfe: number;
  error: number;
  model?: string;
}

/** `vdm nfe` with 100 samples and --json: its rows. */
const nfe = (...flags: string[]): Row[] => vdmJson("nfe", "--n", "100", "--out", join(root, "nfe"), "--json", ...jax, ...flags).rows;

describe("vdm nfe --distilled", () => {
  it("adds a row of the students at their own N, each entry the student's own DDIM on trailing levels", { timeout: 120_000 }, () => {
    const rows = nfe("--model", teacher, "--samplers", "ddim", "--steps", "1,4", "--distilled", fast);
    assert.deepEqual(
      rows.map((r) => [r.sampler, r.steps, r.nfe]),
      [
        ["ddim", 1, 1],
        ["ddim", 4, 4],
        ["distilled", 1, 1],
        ["distilled", 2, 2],
      ],
    );
    for (const student of rows.filter((r) => r.sampler === "distilled")) {
      assert.equal(student.model, join(fast, `round-${student.steps}`));
      const [alone] = nfe("--model", student.model!, "--samplers", "ddim", "--spacing", "trailing", "--steps", String(student.steps));
      assert.equal(student.error, alone!.error, `round-${student.steps} alone`);
    }
    // the teacher's one DDIM step and its 1-step student are different models
    assert.notEqual(rows[0]!.error, rows[2]!.error);

    // the table: a column per N of any row, the distilled row empty at N=4
    const r = vdm(
      "nfe",
      "--model",
      teacher,
      "--samplers",
      "ddim",
      "--steps",
      "1,4",
      "--distilled",
      fast,
      "--n",
      "100",
      "--out",
      join(root, "t"),
      ...jax,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^sampler\tN=1\tN=2\tN=4$/m);
    assert.match(r.stdout, /^ddim\t\S+ \(1\)\t\t\S+ \(4\)$/m);
    assert.match(r.stdout, /^distilled\t\S+ \(1\)\t\S+ \(2\)\t$/m);
  });

  it("vdm nfe and vdm eval --model FAST take its own sampler unless told otherwise", { timeout: 60_000 }, () => {
    const [own, ...more] = nfe("--model", fast);
    assert.equal(more.length, 0);
    const [explicit] = nfe("--model", fast, "--samplers", "ddim", "--spacing", "trailing", "--steps", "1");
    assert.deepEqual([own!.sampler, own!.steps, own!.error], ["ddim", 1, explicit!.error]);
    const e = vdmJson("eval", "--model", fast, "--n", "50", "--json", ...jax);
    assert.deepEqual([e.sampler, e.nfe], ["ddim", 1]);
  });

  it("refuses a directory that is not a distilled run", () => {
    refused(/--distilled .*teacher: not a distilled run/, "nfe", "--model", teacher, "--distilled", teacher, "--out", join(root, "x"));
    refused(
      /--distilled must list distilled runs, each once/,
      "nfe",
      "--model",
      teacher,
      "--distilled",
      `${fast},${fast}`,
      "--out",
      join(root, "x"),
    );
  });
});
