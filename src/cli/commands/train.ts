/** `vdm train`: train a denoiser on a 2-D set (or the user's points), or a Diffusion-LM (--data text:…), and write pictures and metrics. */
import { architectures } from "../../models/kinds.js";
import { flagValue, helpText, parseGiven } from "../args.js";
import { isTextRun } from "../runs.js";
import { trainText } from "../text-train.js";
import { denoiserFlagTables, trainDenoiser } from "../train-denoiser.js";

/** The flag tables `vdm train` parses, in the order its help lists them. */
export const flagTables = denoiserFlagTables;

/** One line for `vdm --help`. */
export const summary = "train a denoiser (or with --conditional p(x|y)), write a checkpoint, pictures and metrics";

export const help = helpText(
  `vdm train --data D --out DIR [--net ${architectures("denoiser").join("|")}] [--steps N] [--schedule S] [--conditional] [--latent AE] [--resume | --force] [--no-report]`,
  `(--data text:restaurants or text:FILE trains a Diffusion-LM instead: vdm train --data text:restaurants --help.)

Trains an MLP denoiser (defaults tuned per built-in set; continuous time on the ELBO with VDM's linear
log-SNR schedule; the discrete cosine chain with the simple loss, the earlier default, is
--schedule cosine --timesteps 1000 --loss simple), or with
--net ncsn an NCSN-style score model (the network sees x̃ = x_0 + σ̃ε, σ̃ log-uniform on NCSN's
geometric ladder 0.01..10, σ̃²-weighted denoising score matching), checkpointing into DIR (config.json +
state.safetensors). Then writes DIR/loss.png, DIR/samples.png (held-out data | samples),
DIR/forward.png (the forward process x_0 … x_T) and DIR/metrics.json (bits/dim with the three ELBO
terms, energy distance to held-out data and its noise floor, steps/s); --no-report stops after the
checkpoint.
--net hvae trains a Markovian hierarchical VAE instead: --levels T learned Gaussian encoders and
decoders (MLPs of --layers × --hidden) on its −ELBO with the data's decoder; its report gives bits/dim
with every level's term and ancestral samples (docs/hvae.md).
--conditional trains p(x | y) on the data's labels with a learned label embedding; each label is
dropped to "no label" with probability --cfg-dropout, so one model serves classifier-free guidance.

Learned schedules (Kingma et al. 2021), trained with the denoiser through the whole −ELBO (--loss elbo,
the default for them; the network is then conditioned on γ instead of t): learned-linear,
γ(t) = γ_min + (γ_max − γ_min)·t with both endpoints learned; learned, a monotone network between
learned endpoints. The endpoints follow the ELBO (γ_min through the reconstruction term, γ_max through
the prior term); in continuous time (--timesteps 0) the network's shape, on which the ELBO does not
depend, follows the gradient of the diffusion-loss estimate's variance, in discrete time the ELBO.
Both start from γ_min = −13.3, γ_max = 5. The progress line shows each batch's loss variance;
vdm schedule --model DIR draws what was learned.

Images (--data fashion-mnist): IDX files from --data-dir. Pixels map to [−1, 1]; a U-Net (base
channels × multipliers per level, self-attention at the listed levels) is trained in continuous time
on the linear log-SNR schedule, batch 32. At every checkpoint DIR/grid-STEP.png (and DIR/grid.png,
the latest) shows 16 samples and DIR/loss.png the loss so far; at the end DIR/samples.png (held-out
| 64 samples), DIR/loss.png and DIR/metrics.json (test bits/dim with the discretised 8-bit decoder
and the three ELBO terms, on --eval-images test images with --elbo-samples draws of t each); a
conditional model also writes DIR/cfg.png (one row of 4 samples per class, classifier-free guidance
at --cfg-scale w).

Latent diffusion (--latent AE, an autoencoder run of vdm train-autoencoder): the images are encoded
(one draw of q(z|x) each) and a one-level U-Net (base 64, attention) is trained on the latents,
normalised per channel; DIR/autoencoder/ holds a copy of the autoencoder. The reports decode the
samples through it, and metrics.json holds the latent bound in the image's bits/dim (docs/latent.md).

--backend onnx runs the training step (forward, jax-js's gradient, AdamW and EMA, exported to ONNX as
one graph) and the reports' network in ONNX Runtime; checkpoints are the same either way.`,
  ...flagTables,
);

/** `vdm train`: a Diffusion-LM goes to `trainText`, any other run to `trainDenoiser`. */
export async function run(argv: string[]): Promise<void> {
  const out = flagValue(argv, "out");
  const text = flagValue(argv, "data")?.startsWith("text:") || (argv.includes("--resume") && out !== undefined && isTextRun(out));
  if (text) return trainText(argv);
  const { values, given, raw } = parseGiven(argv, ...flagTables);
  if (values.help) return void console.log(help);
  return trainDenoiser({ values, raw }, given);
}
