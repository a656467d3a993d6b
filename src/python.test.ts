/**
 * The PyTorch twins in python/vdm_torch (networks, schedules, losses, AdamW/EMA, checkpoint files)
 * against vdm itself: python/tests, run by a Python with PyTorch. It fails, not skips, without one:
 * `npm run bench:setup` builds bench/.venv (PyTorch 2 CPU from local wheels); VDM_PYTHON names another.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** VDM_PYTHON, else bench/.venv's python, else python3. */
function python(): string {
  if (process.env.VDM_PYTHON) return process.env.VDM_PYTHON;
  const venv = join(ROOT, "bench", ".venv", "bin", "python");
  return existsSync(venv) ? venv : "python3";
}

describe("python/vdm_torch", () => {
  it("has PyTorch to run on", () => {
    const r = spawnSync(python(), ["-c", "import torch, numpy; print(torch.__version__)"], { encoding: "utf8" });
    assert.equal(
      r.status,
      0,
      `${python()} cannot import torch and numpy (run npm run bench:setup, or set VDM_PYTHON): ${r.stderr ?? r.error}`,
    );
  });

  it("matches vdm: forward, losses, gradients, one AdamW + EMA step, checkpoint bytes (python/tests)", () => {
    const r = spawnSync(python(), ["-m", "unittest", "discover", "-s", "python/tests", "-v"], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 600_000,
    });
    assert.equal(r.status, 0, `python/tests failed:\n${r.stderr}`);
  });
});
