/**
 * The image training tab's side of the worker: a small class-conditional U-Net trained on the
 * bundled Fashion-MNIST subset (2,000 training images), its loss and steps/s streamed as the 2-D
 * run's are, a grid of samples from its EMA weights on demand, and the run saved and loaded as the
 * CLI's two files (config.json, state.safetensors), so `vdm sample --model DIR` reads a page's run
 * and the page keeps training a CLI run.
 */

import {
  buildProcess,
  cfgModel,
  type Denoiser,
  type DiffusionProcess,
  DpmSolverSampler,
  data,
  drawSamples,
  type Normalization,
  normalizationOf,
  Rng,
  type RunConfig,
  runConfigFor,
  trainedModel,
  training,
} from "vdm/browser";
import { numpy as np, tree } from "vdm/jax";
import testImagesUrl from "../../data/fashion-mnist/t10k-images-idx3-ubyte.gz?url";
import testLabelsUrl from "../../data/fashion-mnist/t10k-labels-idx1-ubyte.gz?url";
import trainImagesUrl from "../../data/fashion-mnist/train-images-idx3-ubyte.gz?url";
import trainLabelsUrl from "../../data/fashion-mnist/train-labels-idx1-ubyte.gz?url";
import { fastDenoiser, stepper } from "./backend.js";
import { LiveRun, restoreUploaded } from "./live-run.js";
import type { Event, ImageSettings, Reply, Requests } from "./protocol.js";

type Handlers = {
  [K in "imageConfigure" | "imageStart" | "imagePause" | "imageSample" | "imageSave" | "imageLoad"]: (
    args: Requests[K]["args"],
  ) => Requests[K]["result"] | Promise<Requests[K]["result"]>;
};

/** An IDX file of the bundled subset, inflated in the page. */
async function idx(url: string) {
  const stream = (await fetch(url)).body!.pipeThrough(new DecompressionStream("gzip"));
  return data.decodeIdx(new Uint8Array(await new Response(stream).arrayBuffer()), url);
}

/** The bundled images as the CLI reads them: [n, 28, 28, 1] pixels 0..255 with labels. */
async function imageSet(imagesUrl: string, labelsUrl: string): Promise<data.PointSet> {
  const [images, labels] = await Promise.all([idx(imagesUrl), idx(labelsUrl)]);
  const [n, rows, cols] = images.shape as [number, number, number];
  return { points: Float32Array.from(images.data), n, dim: rows * cols, shape: [rows, cols, 1], labels: Int32Array.from(labels.data) };
}

let split: { train: data.PointSet; test: data.PointSet } | null = null;
const bundled = async () =>
  (split ??= { train: await imageSet(trainImagesUrl, trainLabelsUrl), test: await imageSet(testImagesUrl, testLabelsUrl) });

/** The run's config: the CLI's defaults for fashion-mnist (class-conditional) with the page's size and steps. */
function imageConfig(s: ImageSettings, set: { train: data.PointSet; test: data.PointSet }): RunConfig {
  return runConfigFor("fashion-mnist", set, {
    unet: { base: s.base, multipliers: s.multipliers, attention: s.attention },
    classes: 10,
    batch: s.batch,
    lr: s.lr,
    steps: s.steps,
    seed: s.seed,
  });
}

/**
 * 28×28 images (pixels 0..255) of the classes `labels` from `den` with classifier-free guidance at
 * `scale`, DPM-Solver++ 2M on `steps` levels from `seed`: the Images tab's and this tab's grids.
 */
export function guidedImages(
  den: Denoiser,
  process: DiffusionProcess,
  normalization: Normalization,
  labels: Int32Array,
  { scale, steps, seed }: { scale: number; steps: number; seed: number },
): Float32Array {
  const guided = {
    model: cfgModel(den.model),
    params: { net: den.params, labels: np.array(labels, { dtype: np.int32 }), scale: np.array([scale]) },
  };
  return drawSamples(guided, process, {
    normalization,
    shape: [28, 28, 1],
    n: labels.length,
    rng: new Rng(seed),
    sampler: new DpmSolverSampler(process, { steps }),
  });
}

let live: LiveRun | null = null;
let runs = 0;

function startRun(config: RunConfig, set: data.PointSet, post: (m: Event | Reply) => void, start?: training.TrainingRunOptions["start"]) {
  live?.close();
  live = new LiveRun(new training.TrainingRun(config, set, { makeStepper: stepper(), ...(start ? { start } : {}) }), "images", post);
  runs++;
  return live;
}

/**
 * Move the image run to another backend: `move()` switches it; the run goes on from its state
 * (read from the old backend first), with the same progress events.
 */
export async function moveImageRun<T>(move: () => Promise<T>, post: (m: Event | Reply) => void): Promise<T> {
  const config = live?.run.config;
  const state = live?.detach();
  live = null;
  const moved = await move();
  if (config && state && split) startRun(config, split.train, post, state).progress([]);
  return moved;
}

const requireRun = () => {
  if (!live) throw new Error("start an image run first");
  return live;
};

/** The handlers, posting progress with `post`. */
export function imageHandlers(post: (m: Event | Reply) => void): Handlers {
  return {
    async imageConfigure(s) {
      const set = await bundled();
      const run = startRun(imageConfig(s, set), set.train, post);
      run.progress([]);
      const parameters = tree.leaves(run.run.state().params).reduce((a, p) => a + p.size, 0);
      return { parameters, config: JSON.stringify(run.run.config, null, 2), images: set.train.n };
    },

    imageStart() {
      return requireRun().launch();
    },

    imagePause() {
      live?.pause();
      return { step: live?.run.step ?? 0 };
    },

    imageSample({ n, steps, scale, seed }) {
      const { run } = requireRun();
      const process = buildProcess(run.config);
      const den = fastDenoiser("image-run", `${runs}:${run.step}`, () => trainedModel(run.config, run.state().ema).denoiser);
      const labels = Int32Array.from({ length: n }, (_, i) => i % 10);
      const t0 = performance.now();
      const pixels = guidedImages(den, process, normalizationOf(run.config), labels, { scale, steps, seed });
      return { pixels, labels: Array.from(labels), step: run.step, ms: performance.now() - t0 };
    },

    imageSave() {
      return requireRun().save();
    },

    async imageLoad({ config: text, state }) {
      const loaded = restoreUploaded(text, state, "uploaded run", ({ config: c, state: s }) => {
        const shape = c.data.shape?.join("×");
        return c.model.kind === "unet" && shape === "28×28×1" && s
          ? null
          : `the image tab keeps training U-Nets on 28×28×1 images from their training state; this run is ${c.model.kind} on ${shape ?? `${c.data.dim}-D points`}${s ? "" : " without a training state"}`;
      });
      const start = loaded.state!; // (refused above without one)
      const set = await bundled(); // (the loaded denoiser's params are the state's EMA: the run keeps them)
      const run = startRun(loaded.config, set.train, post, start);
      run.progress([...start.losses]);
      return { step: run.run.step, config: JSON.stringify(loaded.config, null, 2) };
    },
  };
}
