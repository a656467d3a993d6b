/**
 * The library's errors. Each names the problem in the library's own terms (options, files,
 * values), never in the command line's: the CLI adds flag names where it reports them.
 *
 * @example
 * ```ts
 * import { CheckpointError, loadRun } from "vdm";
 * try {
 *   loadRun("runs/moons");
 * } catch (err) {
 *   if (err instanceof CheckpointError) console.error(`not a usable checkpoint: ${err.message}`);
 *   else throw err;
 * }
 * ```
 */

/** Base class of every error the library throws on purpose. */
export class VdmError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A data set or data file that is missing, unreadable or malformed (points, images, mixtures, labels). */
export class DataError extends VdmError {}

/** A checkpoint or weights directory that is missing, truncated, corrupt or does not fit the model. */
export class CheckpointError extends VdmError {}

/** An invalid configuration or option value (a run's config, a sampler's or a schedule's options). */
export class ConfigError extends VdmError {}
