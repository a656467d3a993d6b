/**
 * `npm run bench:recipe`: the Fashion-MNIST recipe's first steps (docs/images.md), end to end, beside
 * the same steps in PyTorch and JAX: one script, one run.
 *
 *   node dist-bench/recipe.js [--steps N] [--threads 1,2] [--json]
 *
 * Ours is the command a user runs, `vdm train --data fashion-mnist --conditional --lr-decay cosine
 * --ema-decay 0.9995 --steps N --onnx-threads T --no-report` (data loaded, the U-Net built, the step
 * exported and loaded into ONNX Runtime, N steps, the checkpoint written). The peers (bench/peer.py,
 * bench/peer_jax.py, case recipe_fmnist_s500) do the same in their framework: the same images from
 * the same folder, the same conditional U-Net (parameter counts must agree), labels dropped to "no
 * label" with probability 0.15, the same warm-up, cosine decay, clipping, Adam and EMA, the state
 * saved at the end. Each side runs in a fresh process pinned to T cores, one after another; `wall`
 * is the process from start to exit, `train` the steps and the save as the side times them (ours:
 * metrics.json's trainSeconds; the peers: their loop, JAX's compilation included, which ours does
 * before its clock starts). Default: N = 500 (only 500 is known to the peers), T = 2 (the recipe's).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { pinned, root, VENV_PYTHON } from "./sides.js";

// the library's reader, from the build our side runs (bin/vdm.js runs dist/)
const { decodeSafetensors } = (await import(
  pathToFileURL(join(root, "dist", "io", "safetensors.js")).href
)) as typeof import("vdm-dist/io/safetensors.js");

interface Side {
  side: string;
  threads: number;
  wall_s: number;
  train_s: number;
  params?: number;
}

function parseArgs(argv: string[]) {
  const o = { steps: 500, threads: [2], json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--json") o.json = true;
    else if (a === "--steps") o.steps = Number(argv[++i]);
    else if (a === "--threads") o.threads = (argv[++i] ?? "").split(",").filter(Boolean).map(Number);
    else throw new Error(`unknown argument "${a}" (use --steps 500 --threads 1,2 --json)`);
  }
  if (o.steps !== 500) throw new Error("--steps: the peers know the recipe's case at 500 steps only (recipe_fmnist_s500)");
  if (!o.threads.length || !o.threads.every((t) => Number.isInteger(t) && t >= 1))
    throw new Error("--threads must list positive whole numbers");
  return o;
}

/** `command args` pinned to the first `threads` cores, run to the end: its stdout and wall time. */
function timed(threads: number, command: string, args: string[]): { stdout: string; wall_s: number } {
  const [cmd, argv] = pinned(threads, command, args);
  const start = performance.now();
  const r = spawnSync(cmd, argv, { cwd: root, encoding: "utf8", maxBuffer: 1 << 26 });
  const wall_s = (performance.now() - start) / 1000;
  if (r.error || r.status !== 0)
    throw new Error(
      `${command} ${args.join(" ")} failed: ${r.error?.message ?? (r.stderr || r.stdout).trim().split("\n").slice(-3).join(" | ")}`,
    );
  return { stdout: r.stdout, wall_s };
}

function ours(steps: number, threads: number): Side {
  const out = mkdtempSync(join(tmpdir(), "vdm-recipe-"));
  try {
    const flags = ["--data", "fashion-mnist", "--conditional", "--lr-decay", "cosine", "--ema-decay", "0.9995"];
    const args = [join(root, "bin", "vdm.js"), "train", ...flags, "--steps", String(steps), "--onnx-threads", String(threads)];
    const { wall_s } = timed(threads, process.execPath, [...args, "--out", join(out, "run"), "--no-report", "--quiet", "--force"]);
    const metrics = JSON.parse(readFileSync(join(out, "run", "metrics.json"), "utf8")) as { trainSeconds: number };
    return { side: "ours", threads, wall_s, train_s: metrics.trainSeconds, params: paramsIn(join(out, "run", "state.safetensors")) };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** The parameter count of a checkpoint: the sizes of its "params.*" tensors. */
function paramsIn(path: string): number {
  const { tensors } = decodeSafetensors(readFileSync(path), path);
  return Object.entries(tensors)
    .filter(([name]) => name.startsWith("params."))
    .reduce((n, [, t]) => n + t.data.length, 0);
}

function peer(side: "torch" | "jax", steps: number, threads: number): Side {
  const script = join(root, "bench", side === "torch" ? "peer.py" : "peer_jax.py");
  const { stdout, wall_s } = timed(threads, VENV_PYTHON, [script, `recipe_fmnist_s${steps}_t${threads}`, "1", "0"]);
  const r = JSON.parse(stdout.trim().split("\n").pop()!) as { ms: number; params: number };
  return { side, threads, wall_s, train_s: r.ms / 1000, params: r.params };
}

const opts = parseArgs(process.argv.slice(2));
if (!existsSync(VENV_PYTHON)) throw new Error("bench/.venv is missing: npm run bench:setup");
const rows: Side[] = [];
for (const threads of opts.threads) {
  for (const run of [() => ours(opts.steps, threads), () => peer("torch", opts.steps, threads), () => peer("jax", opts.steps, threads)]) {
    const row = run();
    console.error(`${row.side}, ${threads} thread(s): ${row.wall_s.toFixed(1)} s in all, ${row.train_s.toFixed(1)} s training`);
    rows.push(row);
  }
  const counts = new Set(rows.slice(-3).map((r) => r.params));
  if (counts.size !== 1)
    throw new Error(
      `the sides' models differ (${rows
        .slice(-3)
        .map((r) => `${r.side} ${r.params}`)
        .join(", ")} parameters)`,
    );
}

if (opts.json) console.log(JSON.stringify({ steps: opts.steps, rows }, null, 2));
else {
  console.log(`The Fashion-MNIST recipe's first ${opts.steps} steps (batch 32), end to end`);
  console.log("side   threads  wall s  train s  steps/s  wall / fastest peer");
  for (const r of rows) {
    const peers = rows.filter((p) => p.threads === r.threads && p.side !== "ours");
    const fastest = Math.min(...peers.map((p) => p.wall_s));
    console.log(
      [
        r.side.padEnd(6),
        String(r.threads).padStart(7),
        r.wall_s.toFixed(1).padStart(6),
        r.train_s.toFixed(1).padStart(7),
        (opts.steps / r.train_s).toFixed(2).padStart(7),
        (r.wall_s / fastest).toFixed(2).padStart(19),
      ].join("  "),
    );
  }
}
