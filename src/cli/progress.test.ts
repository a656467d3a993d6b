import assert from "node:assert/strict";
import { test } from "node:test";
import { formatSeconds } from "./progress.js";

test("formatSeconds rounds across unit boundaries without writing 60 in a lower unit", () => {
  const cases: [number, string][] = [
    [0.4, "0s"],
    [59.4, "59s"],
    [59.6, "1m00s"],
    [119.7, "2m00s"],
    [754.2, "12m34s"],
    [3569.4, "59m29s"],
    [3599.8, "1h00m"],
    [7170, "2h00m"],
    [Infinity, "?"],
  ];
  for (const [s, text] of cases) assert.equal(formatSeconds(s), text, `formatSeconds(${s})`);
});
