/**
 * Progress for long loops: a live bar on a terminal, otherwise a plain line (stderr) every tenth
 * of the work and at least every 30 seconds.
 */
export class Progress {
  readonly #start = performance.now();
  #lastDraw = 0;
  #nextLine: number;
  /** the count of the last plain line (a repeated count is not printed again) */
  #lastLine = -1;
  readonly #tty: boolean;

  constructor(
    readonly label: string,
    readonly total: number,
    readonly first = 0,
    readonly stream: NodeJS.WriteStream = process.stderr,
    readonly quiet = false,
  ) {
    this.#tty = Boolean(stream.isTTY);
    this.#nextLine = first;
  }

  /** Report that `done` of `total` are complete, with an optional loss and the variance of its per-example estimates. */
  update(done: number, loss?: number, variance?: number): void {
    if (this.quiet) return;
    const now = performance.now();
    const rate = (done - this.first) / ((now - this.#start) / 1000);
    const eta = rate > 0 ? (this.total - done) / rate : Infinity;
    const text = `${this.label} ${done}/${this.total}${loss === undefined ? "" : ` loss ${loss.toPrecision(4)}`}${variance === undefined ? "" : ` var ${variance.toPrecision(3)}`} ${rate.toFixed(1)} it/s ETA ${formatSeconds(eta)}`;
    if (this.#tty) {
      if (now - this.#lastDraw < 100 && done < this.total) return;
      this.#lastDraw = now;
      const width = 24;
      const filled = Math.round((width * done) / this.total);
      this.stream.write(`\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${text}\x1b[K`);
      if (done >= this.total) this.stream.write("\n");
    } else if ((done !== this.#lastLine && (done >= this.#nextLine || done >= this.total)) || now - this.#lastDraw >= 30_000) {
      this.#lastDraw = now;
      this.#lastLine = done;
      this.stream.write(`${text}\n`);
      this.#nextLine = done + Math.max(1, Math.ceil(this.total / 10));
    }
  }
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return "?";
  if (s < 59.5) return `${s.toFixed(0)}s`;
  if (s < 3570) {
    const whole = Math.round(s);
    return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, "0")}s`;
  }
  const minutes = Math.round(s / 60);
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}
