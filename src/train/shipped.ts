/**
 * Models that ship with the package, in its models/ folder, by built-in name:
 * "fashion-mnist" (the class-conditional U-Net of the README's recipe, EMA weights) and
 * "fashion-mnist-classifier" (the clean-image CNN whose features the image metrics use).
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The package's models/ folder (beside dist/ and src/). */
export const shippedModelsDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "models");

/** Built-in names of the models shipped in the package's models/ folder (see `modelDirectory`). */
export const shippedModelNames = ["fashion-mnist", "fashion-mnist-classifier"] as const;

/**
 * The directory `spec` names: a built-in name unless a directory of that name exists here (a
 * user's own run directory wins), else `spec` itself.
 */
export function modelDirectory(spec: string): string {
  if ((shippedModelNames as readonly string[]).includes(spec) && !existsSync(spec)) return join(shippedModelsDir, spec);
  return spec;
}
