// Retrains models/fashion-mnist-classifier: the clean-image CNN whose penultimate features the
// sample-quality metrics (Fréchet distance, src/eval/quality.ts) are computed in. Needs the full
// Fashion-MNIST (default: Debian's dataset-fashion-mnist in /usr/share/datasets/fashion-mnist) and
// onnxruntime-node (the optional dependency); prints the test accuracy on all 10,000 test images.
// Run after `npm run build`: node scripts/train-fashion-mnist-classifier.mjs [DIR]
import { main } from "../dist/cli/main.js";

const source = process.argv[2] ?? "/usr/share/datasets/fashion-mnist";
const out = new URL("../models/fashion-mnist-classifier/", import.meta.url).pathname;
process.exitCode = await main([
  "train-classifier",
  "--data",
  "fashion-mnist",
  "--data-dir",
  source,
  "--net",
  "cnn",
  "--steps",
  "6000",
  "--batch",
  "128",
  "--backend",
  "onnx",
  "--out",
  out,
]);
