// The hierarchical VAE against a VDM with the same number of levels, through the CLI: for T = 1, 2, 4, 8,
// `vdm train --net hvae --levels T` and a discrete-time VDM with T steps on a learned linear schedule
// (--timesteps T --schedule learned-linear, so that its endpoints suit few steps), equal steps, batch and
// MLP width (images go through both MLPs as flat vectors), then `vdm eval` of each. Writes DIR/table.json, DIR/table.md
// (bits/dim ± SE, each level's KL in nats, energy distance for 2-D data, training steps/s) and DIR/chart.png.
// Run after `npm run build`:
//   node scripts/hvae-table.mjs DATA STEPS [--out DIR] [--batch B] [--hidden H] [--levels 1,2,4,8] [--onnx-threads N]
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { plot } from "../dist/index.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    out: { type: "string" },
    batch: { type: "string", default: "256" },
    hidden: { type: "string", default: "128" },
    levels: { type: "string", default: "1,2,4,8" },
    "onnx-threads": { type: "string", default: "1" },
  },
});
const [data, steps] = positionals;
if (!data || !steps) {
  console.error("usage: node scripts/hvae-table.mjs DATA STEPS [--out DIR] [--batch B] [--hidden H] [--levels 1,2,4,8] [--onnx-threads N]");
  process.exit(2);
}
const image = data === "fashion-mnist";
const out = values.out ?? join("runs", `hvae-table-${data}`);
const levels = values.levels.split(",").map(Number);
mkdirSync(out, { recursive: true });
const bin = new URL("../bin/vdm.js", import.meta.url).pathname;
// ONNX Runtime's threads, for the commands that may run it (an HVAE's eval runs in jax-js only and refuses the flag)
const threads = ["--onnx-threads", values["onnx-threads"]];

/** `vdm args --json`: its JSON, or an error naming the command. */
function vdm(args) {
  console.error(`vdm ${args.join(" ")}`);
  const r = spawnSync(process.execPath, [bin, ...args, "--json"], { encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`vdm ${args.join(" ")} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split("\n").at(-1));
}

const common = ["--data", data, "--steps", steps, "--batch", values.batch, "--quiet", "--force"];
const evalFlags = image ? ["--n", "500"] : [];
const rows = [];
for (const T of levels) {
  const hvaeDir = join(out, `hvae-${T}`);
  const hvae = vdm(["train", ...common, ...threads, "--net", "hvae", "--levels", String(T), "--hidden", values.hidden, "--out", hvaeDir]);
  const hvaeEval = vdm(["eval", "--model", hvaeDir, ...evalFlags]);
  rows.push({
    model: "hvae",
    T,
    bpd: hvaeEval.bpd,
    bpdStdError: hvaeEval.bpdStdError,
    reconstruction: hvaeEval.terms.reconstruction,
    // level t < T: its consistency term; level T: the prior KL
    levelKl: [...hvaeEval.terms.consistency, hvaeEval.terms.prior],
    energyDistance: hvaeEval.energyDistance ?? null,
    noiseFloor: hvaeEval.noiseFloor ?? null,
    stepsPerSecond: hvae.stepsPerSecond ?? null,
  });
  const vdmDir = join(out, `vdm-${T}`);
  const width = ["--net", "mlp", "--hidden", values.hidden];
  const vdmTrain = vdm([
    "train",
    ...common,
    ...threads,
    "--timesteps",
    String(T),
    "--schedule",
    "learned-linear",
    ...width,
    "--out",
    vdmDir,
  ]);
  // the samples of a T-step chain: its own T levels
  const vdmEval = vdm(["eval", "--model", vdmDir, ...threads, ...evalFlags, ...(image ? [] : ["--sample-steps", String(T)])]);
  rows.push({
    model: "vdm",
    T,
    bpd: vdmEval.bpd,
    // nats/bpd = D ln 2
    bpdStdError: ((vdmEval.natsStdError ?? vdmEval.stdError) * vdmEval.bpd) / vdmEval.nats,
    reconstruction: vdmEval.terms.reconstruction,
    // the diffusion term summed over its T − 1 levels (the CLI reports no per-level split), then the prior
    levelKl: [vdmEval.terms.diffusion, vdmEval.terms.prior],
    energyDistance: vdmEval.energyDistance ?? null,
    noiseFloor: vdmEval.noiseFloor ?? null,
    stepsPerSecond: vdmTrain.stepsPerSecond ?? null,
  });
}

const fmt = (v, d = 3) => (v === null || v === undefined || !Number.isFinite(v) ? "n/a" : v.toFixed(d));
const md = [
  `# Hierarchical VAE vs VDM with T levels: ${data}, ${steps} steps, batch ${values.batch}, MLP width ${values.hidden}`,
  "",
  "| model | T | bits/dim ± SE | reconstruction (nats) | KL per level (nats; HVAE: consistency t = 1..T−1, prior; VDM: diffusion Σ, prior) | energy distance (noise floor) | steps/s |",
  "|---|---|---|---|---|---|---|",
  ...rows.map(
    (r) =>
      `| ${r.model} | ${r.T} | ${fmt(r.bpd)} ± ${fmt(r.bpdStdError)} | ${fmt(r.reconstruction)} | ${r.levelKl.map((k) => fmt(k, 4)).join(", ")} | ${
        r.energyDistance === null ? "n/a" : `${r.energyDistance.toExponential(2)} (${r.noiseFloor.toExponential(2)})`
      } | ${fmt(r.stepsPerSecond, 1)} |`,
  ),
  "",
  `Command: node scripts/hvae-table.mjs ${process.argv.slice(2).join(" ")}`,
  "",
];
writeFileSync(
  join(out, "table.json"),
  `${JSON.stringify({ data, steps: Number(steps), batch: Number(values.batch), hidden: Number(values.hidden), rows }, null, 2)}\n`,
);
writeFileSync(join(out, "table.md"), md.join("\n"));
const series = ["hvae", "vdm"].map((model) => ({
  name: model === "hvae" ? "hierarchical VAE" : "VDM (learned-linear, T steps)",
  x: rows.filter((r) => r.model === model).map((r) => r.T),
  y: rows.filter((r) => r.model === model).map((r) => r.bpd),
}));
const chart = plot.lineChart(series, {
  title: `${data}: held-out bits/dim against the number of levels T (${steps} steps)`,
  xTitle: "levels T",
  yTitle: "bits/dim",
  legendTitle: "model",
  xLog: true,
});
writeFileSync(join(out, "chart.png"), plot.chartPng(chart));
console.log(md.join("\n"));
console.error(`wrote ${["table.json", "table.md", "chart.png"].map((f) => join(out, f)).join(", ")}`);
