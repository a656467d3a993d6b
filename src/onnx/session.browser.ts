/**
 * The browser's stand-in for ./session.ts (package.json "imports" `#onnx/session`, condition
 * "browser"): a session of ONNX Runtime Web, in the worker `useOnnxRuntimeWeb` connected (./web.ts).
 * Each call blocks until that worker answers; held tensors (a training state) stay there.
 */

import { type HostTensor, SessionCore, type SessionOptions } from "./tensor.js";
import { callWeb, nextSession } from "./web.js";

/** A session of ONNX Runtime Web; its threads and provider are the connection's. */
export class OnnxSession extends SessionCore {
  readonly #session = nextSession();
  #closed = false;

  /** Load `model` (ONNX bytes); the options are the connection's in a browser. */
  constructor(model: Uint8Array, _options: SessionOptions = {}) {
    super();
    callWeb({ op: "open", session: this.#session, model });
  }

  override runOutputs(feeds: Record<string, HostTensor>, outputs: string[], carry: Record<string, string> = {}): HostTensor[] {
    return callWeb({ op: "run", session: this.#session, feeds, outputs, carry });
  }

  override hold(tensors: Record<string, HostTensor>): void {
    callWeb({ op: "hold", session: this.#session, tensors });
  }

  override read(names: string[]): HostTensor[] {
    return callWeb({ op: "read", session: this.#session, names });
  }

  override close(): void {
    if (this.#closed) return;
    this.#closed = true;
    callWeb({ op: "close", session: this.#session });
  }
}
