/** Messages between the page and its worker. Every request gets one reply with its id; training and Langevin also send events. */

export interface TrainSettings {
  /** a built-in 2-D set, or "drawn" for the points the user drew */
  data: string;
  hidden: number;
  layers: number;
  batch: number;
  lr: number;
  /** a fixed schedule's name, or "learned" (continuous time, trained through the ELBO) */
  schedule: string;
  /** diffusion steps T (0 = continuous time) */
  timesteps: number;
  steps: number;
  seed: number;
}

/** The image training tab's run: a class-conditional U-Net on the bundled Fashion-MNIST subset. */
export interface ImageSettings {
  /** the U-Net's channels at full resolution */
  base: number;
  /** channel multipliers per resolution level */
  multipliers: number[];
  /** the levels with attention */
  attention: number[];
  batch: number;
  lr: number;
  steps: number;
  seed: number;
}

/** Where networks run: ONNX Runtime Web's wasm or WebGPU provider, or jax-js. */
export type BackendName = "wasm" | "webgpu" | "jax";

/** The backend in use, and in words what it is (and why, when ONNX Runtime Web could not start). */
export interface BackendInfo {
  backend: BackendName;
  detail: string;
}

/** Which training run a progress event is about: the 2-D Train tab's, or the image tab's. */
export type RunChannel = "points" | "images";

export interface Requests {
  init: {
    /** the first backend; ONNX Runtime Web's threads and training steps per call where the URL sets them */
    args: { backend: BackendName; threads?: number; chunk?: number };
    result: { devices: string[]; threads: number; isolated: boolean; samplers: { name: string; title: string }[] } & BackendInfo;
  };
  backend: { args: { backend: BackendName }; result: BackendInfo };
  data: { args: { spec: string; points?: number[] }; result: { points: Float32Array; labels: Int32Array | null; n: number } };
  configure: { args: TrainSettings; result: { parameters: number; config: string } };
  start: { args: Record<string, never>; result: { started: boolean } };
  pause: { args: Record<string, never>; result: { step: number } };
  reset: { args: Record<string, never>; result: { step: number } };
  forward: {
    args: { schedule: string; t: number; n: number; seed: number };
    result: {
      points: Float32Array;
      gamma: number;
      snr: number;
      alphaBar: number;
      curve: { t: number[]; snr: number[]; alphaBar: number[] };
    };
  };
  sample: {
    args: { sampler: string; steps: number; n: number; seed: number; paths: number };
    result: { points: Float32Array; frames: Float32Array[]; energy: number; floor: number; nfe: number; ms: number };
  };
  elbo: {
    args: { n: number; seed: number };
    result: {
      bpd: number;
      nats: number;
      stdError: number;
      terms: { reconstruction: number; prior: number; diffusion: number };
      perT: { t: number[]; value: number[] };
      continuous: boolean;
    };
  };
  predict: { args: { x: number[]; t: number[] }; result: { prediction: number[]; target: string } };
  score: {
    args: { source: string; sigma: number; grid: number };
    result: {
      arrows: { x: number; y: number; dx: number; dy: number }[];
      points: Float32Array;
      bounds: { xmin: number; xmax: number; ymin: number; ymax: number };
    };
  };
  langevin: {
    args: { n: number; stepsPerLevel: number; seed: number };
    result: { plain: number[]; annealed: number[]; weights: number[]; ms: number };
  };
  guidance: {
    args: { cls: number; scale: number; n: number; seed: number; steps: number };
    result: { points: Float32Array; accuracy: number; spread: number; data: Float32Array; dataLabels: Int32Array };
  };
  images: {
    args: { cls: number; scale: number; steps: number; n: number; seed: number };
    /** onnxMs: of ms, the time spent waiting for ONNX Runtime Web (its calls: onnxCalls) */
    result: { pixels: Float32Array; labels: number[]; ms: number; perImage: number; loadMs: number; onnxMs: number; onnxCalls: number };
  };
  save: { args: Record<string, never>; result: { config: string; state: Uint8Array; step: number } };
  imageConfigure: { args: ImageSettings; result: { parameters: number; config: string; images: number } };
  imageStart: { args: Record<string, never>; result: { started: boolean } };
  imagePause: { args: Record<string, never>; result: { step: number } };
  imageSample: {
    args: { n: number; steps: number; scale: number; seed: number };
    result: { pixels: Float32Array; labels: number[]; step: number; ms: number };
  };
  imageSave: { args: Record<string, never>; result: { config: string; state: Uint8Array; step: number } };
  imageLoad: { args: { config: string; state: Uint8Array }; result: { step: number; config: string } };
  load: { args: { config: string; state: Uint8Array }; result: { step: number; kind: string; config: string } };
}

export type RequestName = keyof Requests;

export type Request = { [K in RequestName]: { id: number; type: K; args: Requests[K]["args"] } }[RequestName];

export type Reply = { id: number; result?: unknown; error?: string };

/** Streamed events. */
export type Event =
  | {
      event: "progress";
      channel: RunChannel;
      step: number;
      steps: number;
      losses: number[];
      stepsPerSecond: number;
      /** the share of the timed steps' time spent waiting for ONNX Runtime Web (the rest: batches drawn in jax-js, the loop) */
      onnxShare: number;
      backend: BackendName;
      running: boolean;
      done: boolean;
    }
  | { event: "langevin"; which: "plain" | "annealed"; remaining: number; shares: number[]; points: Float32Array };
