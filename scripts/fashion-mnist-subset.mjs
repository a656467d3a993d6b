// Writes data/fashion-mnist: the first 2,000 training and 500 test images (and labels) of the full
// Fashion-MNIST in DIR (default: Debian's /usr/share/datasets/fashion-mnist), gzipped IDX.
// Run after `npm run build`: node scripts/fashion-mnist-subset.mjs [DIR]
import { mkdirSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { encodeIdx, readIdxPair } from "../dist/data/idx.js";

const source = process.argv[2] ?? "/usr/share/datasets/fashion-mnist";
const out = new URL("../data/fashion-mnist/", import.meta.url);
mkdirSync(out, { recursive: true });
for (const [prefix, n] of [
  ["train", 2000],
  ["t10k", 500],
]) {
  const { images, labels } = readIdxPair(source, prefix);
  const [, rows, cols] = images.shape;
  writeFileSync(
    new URL(`${prefix}-images-idx3-ubyte.gz`, out),
    gzipSync(encodeIdx([n, rows, cols], images.data.subarray(0, n * rows * cols)), { level: 9 }),
  );
  writeFileSync(new URL(`${prefix}-labels-idx1-ubyte.gz`, out), gzipSync(encodeIdx([n], labels.subarray(0, n)), { level: 9 }));
}
console.log(`wrote ${out.pathname}`);
