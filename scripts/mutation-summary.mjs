// Summarises a mutation run (`npm run mutate` writes reports/mutation/mutation.json) per folder of
// src/: mutants killed (a test failed or timed out), survived, not reached by any test, and ignored
// (marked equivalent in the source, or code that runs once on import), with the score
//   score = detected / (detected + survived + no coverage),
// and lists every survivor as file:line, mutator and replacement. Writes reports/mutation/summary.md
// and prints the table. Usage: node scripts/mutation-summary.mjs [REPORT.json] [--out SUMMARY.md]
import { readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

const args = process.argv.slice(2);
const outAt = args.indexOf("--out");
const out = outAt >= 0 ? args.splice(outAt, 2)[1] : "reports/mutation/summary.md";
const report = JSON.parse(readFileSync(args[0] ?? "reports/mutation/mutation.json", "utf8"));

const folders = new Map();
const row = (folder) => {
  if (!folders.has(folder))
    folders.set(folder, { killed: 0, timeout: 0, survived: 0, noCoverage: 0, ignored: 0, errors: 0, survivors: [], ignoredWhy: [] });
  return folders.get(folder);
};
const bucket = {
  Killed: "killed",
  Timeout: "timeout",
  Survived: "survived",
  NoCoverage: "noCoverage",
  Ignored: "ignored",
  CompileError: "errors",
  RuntimeError: "errors",
};
for (const [file, { mutants }] of Object.entries(report.files)) {
  const r = row(dirname(file));
  for (const m of mutants) {
    r[bucket[m.status]]++;
    const at = `${file}:${m.location.start.line}`;
    const what = `${m.mutatorName} → ${m.replacement?.replace(/\s+/g, " ").slice(0, 90) ?? ""}`;
    if (m.status === "Survived" || m.status === "NoCoverage")
      r.survivors.push(`${at} ${m.status === "NoCoverage" ? "(no test reaches it) " : ""}${what}`);
    if (m.status === "Ignored") r.ignoredWhy.push(`${at} ${m.mutatorName}: ${m.statusReason ?? ""}`);
  }
}

const score = (r) => (r.killed + r.timeout) / Math.max(1, r.killed + r.timeout + r.survived + r.noCoverage);
const total = [...folders.values()].reduce(
  (t, r) => {
    for (const k of ["killed", "timeout", "survived", "noCoverage", "ignored", "errors"]) t[k] += r[k];
    return t;
  },
  { killed: 0, timeout: 0, survived: 0, noCoverage: 0, ignored: 0, errors: 0 },
);
const line = (name, r) =>
  `| ${name} | ${(100 * score(r)).toFixed(1)} % | ${r.killed} | ${r.timeout} | ${r.survived} | ${r.noCoverage} | ${r.ignored} | ${r.errors} |`;
const sorted = [...folders.entries()].sort(([a], [b]) => a.localeCompare(b));
const table = [
  "| folder | score | killed | timed out | survived | no coverage | ignored | errors |",
  "|---|---:|---:|---:|---:|---:|---:|---:|",
  ...sorted.map(([f, r]) => line(f, r)),
  line("all", total),
].join("\n");
const sections = sorted.map(([f, r]) =>
  [
    `## ${f}`,
    "",
    `Survivors (${r.survivors.length}):`,
    "",
    ...r.survivors.map((s) => `- ${s}`),
    "",
    `Ignored (${r.ignoredWhy.length}):`,
    "",
    ...r.ignoredWhy.map((s) => `- ${s}`),
    "",
  ].join("\n"),
);
writeFileSync(out, [`# Mutation testing of the math core`, "", table, "", ...sections].join("\n"));
console.log(`${table}\n\nsurvivors and ignored mutants: ${out}`);
