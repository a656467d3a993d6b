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
  /** For a name that is none of those an option takes (a data set, a schedule): the name given and the names known, from which a caller may suggest the nearest. */
  readonly unknown?: { name: string; known: readonly string[] };

  constructor(message: string, options?: { cause?: unknown; unknown?: { name: string; known: readonly string[] } }) {
    super(message, options);
    this.name = new.target.name;
    if (options?.unknown) this.unknown = options.unknown;
  }
}

/** A data set or data file that is missing, unreadable or malformed (points, images, mixtures, labels). */
export class DataError extends VdmError {}

/** A checkpoint or weights directory that is missing, truncated, corrupt or does not fit the model. */
export class CheckpointError extends VdmError {}

/** An invalid configuration or option value (a run's config; a network's, a sampler's, a schedule's or a solver's options). */
export class ConfigError extends VdmError {}

/**
 * Arrays, buffers or lists a caller passed whose sizes do not fit together or do not fit what the
 * function takes: channels that do not split into groups, an odd height to pool, pixels that are not
 * whole images, two feature sets of different widths, a byte count that is not width × height × 4.
 */
export class ShapeError extends VdmError {}

/**
 * An operation the library cannot perform on what it was given: an ONNX export of a dtype or jax-js
 * primitive without an ONNX counterpart, a gradient through a network that runs outside jax-js,
 * labels for an unconditional model, a session used after it was closed, or a graph ONNX Runtime
 * refuses to run.
 */
export class UnsupportedError extends VdmError {}
