/**
 * Whether ONNX Runtime's idle pool threads should spin (Node only): they should while the cores this
 * process may run on have room for them, and sleep while other work needs those cores. Measured on 2
 * cores: quiet, spinning made a U-Net training step at 2 threads 0.81× the time and the 2-D step
 * 0.73×; with another process burning a core, spinning threads took the cores the working ones
 * needed and halved the speed. From the kernel's counters (Linux /proc):
 *   busy = Σ over the CPUs in this process's affinity of (non-idle time) / (all time) over a window,
 *   ours = this process's CPU time over the window / the window's wall time,
 *   others = busy − ours (cores' worth of other work);
 *   spin ⇔ others ≤ cores − threads + SPARE,
 * re-measured over windows of at least `WINDOW_MS`, so a long run follows the machine.
 */

import { readFileSync } from "node:fs";

/** The spinning modes by name, as the CLI (`--onnx-spin`) and the bench take them: `SessionOptions.spin` values. */
export const spinModes = { auto: "auto", on: true, off: false } as const;

/** Cores' worth of other work tolerated beyond the spare cores (a quiet machine's background is ~0.05) */
export const SPARE = 0.35;
/** The shortest window a decision is measured over, ms */
export const WINDOW_MS = 100;
/** How long a decision stands before it is measured again, ms */
export const RECHECK_MS = 10_000;

/** One reading of the counters: non-idle and all ticks of the CPUs we may run on, our CPU time, the clock. */
export interface LoadSample {
  busy: number;
  total: number;
  /** this process's user + system CPU time, µs */
  cpuMicros: number;
  /** wall clock, ms */
  at: number;
  /** CPUs in this process's affinity */
  cores: number;
}

/** The CPU numbers in `list` ("0-3,6"), as /proc/self/status writes Cpus_allowed_list. */
export function parseCpuList(list: string): number[] {
  return list
    .trim()
    .split(",")
    .filter(Boolean)
    .flatMap((part) => {
      const [a, b = a] = part.split("-").map(Number) as [number, number?];
      return Array.from({ length: b! - a + 1 }, (_, k) => a + k);
    });
}

/**
 * Non-idle and all ticks of the CPUs `cpus` in /proc/stat's text `stat` (fields user nice system
 * idle iowait irq softirq steal; idle and iowait are idle).
 */
export function ticksOf(stat: string, cpus: number[]): { busy: number; total: number } {
  const wanted = new Set(cpus.map((c) => `cpu${c}`));
  let busy = 0;
  let total = 0;
  for (const line of stat.split("\n")) {
    const [name, ...fields] = line.trim().split(/\s+/);
    if (!name || !wanted.has(name)) continue;
    const [user, nice, system, idle, iowait, irq, softirq, steal] = fields.slice(0, 8).map(Number) as number[];
    const idleTicks = idle! + (iowait ?? 0);
    const busyTicks = user! + nice! + system! + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0);
    busy += busyTicks;
    total += busyTicks + idleTicks;
  }
  return { busy, total };
}

/** A reading of the counters now, or null where /proc cannot be read (not Linux). */
export function sampleLoad(): LoadSample | null {
  try {
    const allowed = /^Cpus_allowed_list:\s*(.+)$/m.exec(readFileSync("/proc/self/status", "utf8"));
    const cpus = parseCpuList(allowed?.[1] ?? "");
    const { busy, total } = ticksOf(readFileSync("/proc/stat", "utf8"), cpus);
    const { user, system } = process.cpuUsage();
    return total > 0 ? { busy, total, cpuMicros: user + system, at: performance.now(), cores: cpus.length } : null;
  } catch {
    return null;
  }
}

/** Cores' worth of work other than this process's between two readings (busy − ours, at least 0). */
export function otherLoad(before: LoadSample, after: LoadSample): number {
  const wallMs = after.at - before.at;
  const ticks = after.total - before.total;
  if (wallMs <= 0 || ticks <= 0) return 0;
  const busyCores = (after.cores * (after.busy - before.busy)) / ticks;
  const ours = (after.cpuMicros - before.cpuMicros) / 1000 / wallMs;
  return Math.max(0, busyCores - ours);
}

/** Whether `threads` pool threads should spin beside `others` cores of other work on `cores` cores. */
export const shouldSpin = (others: number, cores: number, threads: number): boolean => others <= cores - threads + SPARE;

/** Sleep `ms` on this thread (the decision is taken synchronously, where sessions are made). */
const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

let last: LoadSample | null = sampleLoad();
let decided: { at: number; others: number } | null = null;

/**
 * Cores' worth of other work on this process's cores, measured over the window since the last
 * measurement (at least `WINDOW_MS`: the first call may wait that long) and kept for `RECHECK_MS`;
 * null where the counters cannot be read.
 */
export function othersNow(): number | null {
  if (!last) return null;
  const now = performance.now();
  if (decided && now - decided.at < RECHECK_MS) return decided.others;
  if (now - last.at < WINDOW_MS) sleep(WINDOW_MS - (now - last.at));
  const sample = sampleLoad();
  if (!sample) return null;
  decided = { at: sample.at, others: otherLoad(last, sample) };
  last = sample;
  return decided.others;
}

/** `spin` as asked ("auto": `shouldSpin` of the load measured at most `RECHECK_MS` ago; spinning where the load cannot be read). */
export function spinFor(spin: boolean | "auto", threads: number): boolean {
  if (spin !== "auto") return spin;
  if (threads <= 1) return true; // no pool threads to spin
  const others = othersNow();
  return others === null || shouldSpin(others, last!.cores, threads);
}
