// Masked diffusion beside Diffusion-LM on the restaurant grammar, through the CLI: `vdm eval-text --json`
// of each trained run (the bound in bits/token beside the grammar's exact entropy, parse rate, control
// unguided and with each way of steering, infilling, distinct-n, copy rate, samples/s), their training
// facts (steps, seconds, parameters), and — with --time-steps N — each run's training step timed afresh,
// the two alternated twice (N steps each, the same flags as the run, --no-report), so that the steps/s
// compare on one quiet machine. Writes DIR/table.json and DIR/table.md.
// Run after `npm run build`, with both runs trained, e.g.
//   node bin/vdm.js train --data text:restaurants --out runs/lm
//   node bin/vdm.js train --data text:restaurants --process masked --conditional food --out runs/masked
//   node scripts/text-table.mjs runs/lm runs/masked [--out DIR] [--n 200] [--time-steps 300] [--onnx-threads N]
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    out: { type: "string", default: join("runs", "text-table") },
    n: { type: "string", default: "200" },
    "time-steps": { type: "string", default: "0" },
    "onnx-threads": { type: "string", default: "1" },
  },
});
const [lmRun, maskedRun] = positionals;
if (!lmRun || !maskedRun) {
  console.error("usage: node scripts/text-table.mjs LM_RUN MASKED_RUN [--out DIR] [--n 200] [--time-steps N] [--onnx-threads N]");
  process.exit(2);
}
mkdirSync(values.out, { recursive: true });
const bin = new URL("../bin/vdm.js", import.meta.url).pathname;

/** `vdm args --json`: its last line of JSON, or an error naming the command. */
function vdm(args) {
  console.error(`vdm ${args.join(" ")}`);
  const r = spawnSync(process.execPath, [bin, ...args, "--json"], { encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`vdm ${args.join(" ")} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split("\n").at(-1));
}

/** The number of parameters in a run's state.safetensors (the EMA copy: tensors named ema.*). */
function parameters(dir) {
  const bytes = readFileSync(join(dir, "state.safetensors"));
  const header = JSON.parse(bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString("utf8"));
  return Object.entries(header)
    .filter(([name]) => name.startsWith("ema."))
    .reduce((total, [, t]) => total + t.shape.reduce((a, b) => a * b, 1), 0);
}

/** The flags that retrain a run as it was trained (its config), for timing. */
function trainFlags(dir) {
  const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
  const [kind] = Object.keys(config.model).filter((k) => k !== "kind");
  const net = config.model[kind];
  const masked = config.model.kind === "masked-text";
  return [
    "--data",
    config.data.spec,
    "--batch",
    String(config.batch),
    "--width",
    String(net.width),
    "--layers",
    String(net.layers),
    "--heads",
    String(net.heads),
    "--schedule",
    config.schedule,
    "--timesteps",
    String(config.timesteps),
    ...(masked
      ? ["--process", "masked", ...(net.attribute ? ["--conditional", net.attribute] : [])]
      : ["--embed-dim", String(net.embedDim)]),
  ];
}

const runs = [
  { name: "Diffusion-LM", dir: lmRun, extra: [] },
  { name: "masked diffusion", dir: maskedRun, extra: ["--bound-timesteps", "10,100"] },
  { name: "masked, ancestral sampler", dir: maskedRun, extra: ["--sampler", "ancestral"], sameRun: true },
];
const timeSteps = Number(values["time-steps"]);
const timed = runs.map(() => []);
if (timeSteps > 0) {
  const scratch = mkdtempSync(join(tmpdir(), "vdm-text-table-"));
  for (let round = 0; round < 2; round++)
    runs.forEach((run, k) => {
      if (run.sameRun) return;
      const out = join(scratch, `${k}-${round}`);
      const facts = vdm([
        "train",
        ...trainFlags(run.dir),
        "--steps",
        String(timeSteps),
        "--no-report",
        "--onnx-threads",
        values["onnx-threads"],
        "--out",
        out,
      ]);
      timed[k].push(facts.stepsPerSecond);
      rmSync(out, { recursive: true, force: true });
    });
  rmSync(scratch, { recursive: true, force: true });
}
const rows = runs.map((run, k) => {
  const report = vdm(["eval-text", "--model", run.dir, "--n", values.n, ...run.extra]);
  const metrics = JSON.parse(readFileSync(join(run.dir, "metrics.json"), "utf8"));
  return {
    model: run.name,
    run: run.dir,
    parameters: parameters(run.dir),
    steps: metrics.steps,
    trainSeconds: metrics.trainSeconds,
    stepsPerSecond: metrics.stepsPerSecond,
    timedStepsPerSecond: timed[k],
    ...report,
  };
});
writeFileSync(join(values.out, "table.json"), `${JSON.stringify(rows, null, 2)}\n`);

const pct = (x) => `${(100 * x).toFixed(1)} %`;
const se = (p, n) => Math.sqrt((p * (1 - p)) / n);
const share = (p, n) => `${pct(p)} ± ${(100 * se(p, n)).toFixed(1)}`;
const [a] = rows;
const line = (label, f) => `| ${label} | ${rows.map(f).join(" | ")} |`;
const steering = (r, j) =>
  r.control.steered[j]
    ? `${share(r.control.steered[j].success, r.n)} (${r.control.steered[j].name}; parse ${pct(r.control.steered[j].parseRate)})`
    : "—";
const md = [
  `Restaurant grammar: exact entropy ${a.entropy.bitsPerSentence.toFixed(3)} bits/sentence = ${a.entropy.bitsPerToken.toFixed(4)} bits/token over the padded length L = ${a.entropy.length} (${a.entropy.bitsPerWord.toFixed(4)} bits per word of a sentence). ${a.n} samples per measurement.`,
  "",
  `| measure | ${rows.map((r) => r.model).join(" | ")} |`,
  `|---|${rows.map(() => "---|").join("")}`,
  line("parameters", (r) => r.parameters.toLocaleString("en")),
  line("training steps (batch as the run)", (r) => r.steps.toLocaleString("en")),
  line("training time as run (steps/s)", (r) => `${(r.trainSeconds / 60).toFixed(1)} min (${r.stepsPerSecond.toFixed(1)})`),
  ...(timeSteps > 0
    ? [
        line(`steps/s timed afresh (${timeSteps} steps, twice, alternated)`, (r) =>
          r.timedStepsPerSecond.map((s) => s.toFixed(1)).join(", "),
        ),
      ]
    : []),
  line("bound, bits/token ± SE", (r) => `${r.bound.bitsPerToken.toFixed(4)} ± ${r.bound.seBitsPerToken.toFixed(4)}`),
  line("bound, bits/sentence (above the entropy)", (r) => `${r.bound.bitsPerSentence.toFixed(2)} (+${pct(r.bound.overEntropy)})`),
  line("discrete-time bound, bits/token", (r) =>
    r.bound.discrete?.length ? r.bound.discrete.map((d) => `T = ${d.timesteps}: ${d.bitsPerToken.toFixed(4)}`).join("; ") : "—",
  ),
  line("samples that parse", (r) => share(r.parseRate, r.n)),
  line(`${a.control.attribute} control, unguided`, (r) => share(r.control.unguided, r.n)),
  line(`${a.control.attribute} control, steered (1)`, (r) => steering(r, 0)),
  line(`${a.control.attribute} control, steered (2)`, (r) => steering(r, 1)),
  line(`infilling (${pct(a.infill.keep)} of positions fixed): parses and keeps them`, (r) => share(r.infill.success, r.n)),
  line("distinct-1 / 2 / 3", (r) => `${r.distinct[1].toFixed(3)} / ${r.distinct[2].toFixed(3)} / ${r.distinct[3].toFixed(3)}`),
  line(`copied from the training sentences (the grammar itself: ${pct(a.copyRateOfGrammar)})`, (r) => pct(r.copyRate)),
  line("samples/s (sampler)", (r) => `${r.samplesPerSecond.toFixed(1)} (${r.sampler})`),
  "",
];
writeFileSync(join(values.out, "table.md"), md.join("\n"));
console.log(md.join("\n"));
