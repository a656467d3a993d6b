/** The guidance classifiers of text runs on the command line: DIR/classifier-ATTR, loaded or trained when missing. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { TrainTextClassifierOptions } from "../text/classifier.js";
import type { TextCorpus } from "../text/data.js";
import type { Attribute } from "../text/grammar.js";
import { UsageError } from "./args.js";
import { formatSeconds, Progress } from "./progress.js";

/**
 * DIR/classifier-ATTR, loaded by `load`, or trained by `train` (and saved there) when missing, with a
 * progress bar: the guidance classifier of either kind of text run.
 */
export function loadOrTrainClassifier<C>(
  dir: string,
  corpus: TextCorpus,
  attribute: Attribute,
  steps: number,
  quiet: boolean,
  load: (path: string) => C,
  train: (options: TrainTextClassifierOptions) => C,
): C {
  const path = join(dir, `classifier-${attribute}`);
  if (existsSync(join(path, "config.json"))) return load(path);
  if (!corpus.builtin && attribute !== "length")
    throw new UsageError(`the ${attribute} attribute needs the built-in grammar's parser; a text file's run can be steered by length only`);
  if (!quiet)
    console.error(
      `steering by ${attribute} needs a noise-aware ${attribute} classifier, which ${dir} does not have yet: training one now (${steps} steps; kept in ${path} for later runs)`,
    );
  const progress = new Progress(`classifier ${attribute}`, steps, 0, process.stderr, quiet);
  const started = performance.now();
  const clf = train({ steps, checkpointDir: path, onProgress: (p) => progress.update(p.step, p.loss) });
  if (!quiet) console.error(`trained the ${attribute} classifier in ${formatSeconds((performance.now() - started) / 1000)} → ${path}`);
  return clf;
}
