/**
 * What the playground's page shows, in Chromium, in one page load: each tab has a URL (#/<tab>)
 * that opens it, tab switches go into the history, every legend entry of its charts is drawn, the
 * canvases have legends, and controls that do nothing in a state are disabled in it.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { ARTIFACTS, type Playground, startPlayground, waitForPage } from "./testing/playground.js";

/** The tabs, by the name in their URL. */
const TABS = ["data", "forward", "train", "elbo", "sampling", "score", "guidance", "images"];

/** For each legend entry of the Vega chart in `#id`: its label, its colour and whether a mark of that colour is drawn with some extent. */
function legendEntriesDrawn(page: Page, id: string): Promise<{ label: string; color: string; drawn: boolean }[]> {
  return page.evaluate((id) => {
    const svg = document.querySelector(`#${id} svg`)!;
    const colorOf = (e: Element) =>
      [e.getAttribute("stroke"), e.getAttribute("fill")].find((c) => c && c !== "none" && c !== "transparent") ?? "";
    const labels = [...svg.querySelectorAll(".role-legend-label text")].map((t) => t.textContent ?? "");
    const marks = [...svg.querySelectorAll(".role-mark path, .role-mark line, .role-mark circle, .role-mark rect")] as SVGGraphicsElement[];
    return [...svg.querySelectorAll(".role-legend-symbol path")].map((symbol, k) => {
      const color = colorOf(symbol);
      const drawn = marks.some((m) => colorOf(m) === color && m.getBBox().width + m.getBBox().height > 2);
      return { label: labels[k] ?? "", color, drawn };
    });
  }, id);
}

describe("the playground's page", { timeout: 180_000 }, () => {
  let playground: Playground | undefined;
  let page: Page;
  const errors: string[] = [];
  const work = mkdtempSync(join(tmpdir(), "vdm-playground-ui-"));
  const waitFor = (condition: string, timeout?: number) => waitForPage(page, condition, timeout);
  /** The tab shown (its section's name) and the tab links marked active. */
  const shown = () =>
    page.evaluate(() => ({
      sections: [...document.querySelectorAll<HTMLElement>("section.tab")]
        .filter((s) => s.offsetParent !== null)
        .map((s) => s.id.replace(/^tab-/, "")),
      links: [...document.querySelectorAll<HTMLElement>("#tabs .active")].map((a) => a.dataset.tab),
    }));
  const legendOf = (id: string) => page.$$eval(`#${id} li`, (items) => items.map((li) => li.textContent));

  before(async () => {
    playground = await startPlayground(join(work, "site"));
    page = await playground.browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(`console: ${m.text()}`);
    });
    page.on("pageerror", (e) => errors.push(`page: ${e.message}`));
    // the one page load: a link to the forward-process tab
    await page.goto(`${playground.url}#/forward`);
    await waitFor(`document.body.dataset.ready === "1"`, 60_000);
  });

  after(async () => {
    await playground?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it("opens the tab its URL names (#/forward), and draws it", async () => {
    assert.deepEqual(await shown(), { sections: ["forward"], links: ["forward"] });
    await waitFor(`/SNR\\(t\\) = /.test(document.getElementById("fwd-info").textContent) && document.querySelector("#fwd-chart svg")`);
  });

  it("draws every entry of the forward-process chart's legend, the chosen t's marker too", async () => {
    const entries = await legendEntriesDrawn(page, "fwd-chart");
    assert.deepEqual(
      entries.map((e) => e.label),
      ["SNR(t)", "ᾱ_t", "t = 0.30"],
    );
    for (const e of entries) assert.ok(e.drawn, `the legend lists "${e.label}" (${e.color}) but the chart draws nothing in that colour`);
    assert.match((await legendOf("fwd-legend")).join(" "), /x_t = α_t x₀ \+ σ_t ε at t = 0\.30, for 1,500 training points/);
    await page.screenshot({ path: join(ARTIFACTS, "ui-forward.png"), fullPage: true });
  });

  it("puts each tab switch into the URL and the history: back and forward move between tabs", async () => {
    // the page switches tabs on "hashchange", an event that may fire after click, goBack and goForward resolve: wait for it
    const active = (tab: string) => page.waitForFunction((tab) => document.querySelector(`#tab-${tab}`)!.classList.contains("active"), tab);
    await page.click("#tabs [data-tab=sampling]");
    assert.equal(new URL(page.url()).hash, "#/sampling");
    await active("sampling");
    assert.deepEqual(await shown(), { sections: ["sampling"], links: ["sampling"] });
    await page.goBack();
    assert.equal(new URL(page.url()).hash, "#/forward");
    await active("forward");
    assert.deepEqual(await shown(), { sections: ["forward"], links: ["forward"] });
    await page.goForward();
    assert.equal(new URL(page.url()).hash, "#/sampling");
    await active("sampling");
    assert.deepEqual(await shown(), { sections: ["sampling"], links: ["sampling"] });
    for (const tab of TABS) {
      await page.evaluate((tab) => (location.hash = `#/${tab}`), tab);
      await active(tab);
      assert.deepEqual(await shown(), { sections: [tab], links: [tab] }, `#/${tab}`);
    }
  });

  it("names the tabs when a URL names none of them", async () => {
    await page.evaluate(() => (location.hash = "#/nope"));
    await page.waitForFunction(() => document.getElementById("error")!.textContent);
    assert.match((await page.textContent("#error")) ?? "", /no tab "nope" in this page: the tabs are #\/data, #\/forward, .*#\/sampling/);
    assert.deepEqual(await shown(), { sections: ["data"], links: ["data"] });
    await page.evaluate(() => (location.hash = "#/sampling"));
    await page.waitForFunction(() => document.getElementById("error")!.textContent === "");
  });

  it("says what the sampling canvas draws, and shows it", async () => {
    assert.deepEqual(await legendOf("smp-legend"), [
      "training data",
      "samples",
      "paths of 24 samples over the sampler's steps",
      "where each path ends",
    ]);
    await page.click("#smp-run");
    await waitFor(`document.body.dataset.sampled === "1"`);
    await page.screenshot({ path: join(ARTIFACTS, "ui-sampling.png"), fullPage: true });
  });

  it("gives the data, the score field and the guidance canvas legends", async () => {
    assert.deepEqual(await legendOf("data-legend"), ["label 0", "label 1"]); // moons: one label per moon
    await page.evaluate(() => (location.hash = "#/score"));
    await waitFor(`document.querySelector("#sc-chart svg")`);
    const field = await legendEntriesDrawn(page, "sc-chart");
    assert.deepEqual(
      field.map((e) => e.label),
      ["samples of the density", "score"],
    ); // exact ncsn-gmm: its own samples, no data set
    for (const e of field) assert.ok(e.drawn, `the score field's legend lists "${e.label}" but draws nothing in ${e.color}`);
    await page.evaluate(() => (location.hash = "#/guidance"));
    await waitFor(`document.body.dataset.guidance !== undefined`);
    assert.deepEqual(await legendOf("gd-legend"), [
      "500 guided samples of class 0 (w = 0)",
      ...Array.from({ length: 8 }, (_, k) => `data of class ${k}`),
    ]);
  });

  it("disables the controls that would do nothing: T under the learned schedule, clearing a drawing of a built-in set", async () => {
    await page.click("#tabs [data-tab=data]");
    assert.ok(await page.isDisabled("#data-clear"), "clear drawing with moons chosen");
    await page.selectOption("#data-spec", "drawn");
    assert.ok(await page.isEnabled("#data-clear"));
    await page.click("#tabs [data-tab=train]");
    await page.selectOption("#tr-schedule", "learned");
    assert.ok(await page.isDisabled("#tr-T"), "T with the learned (continuous-time) schedule");
    await page.selectOption("#tr-schedule", "cosine");
    assert.ok(await page.isEnabled("#tr-T"));
  });

  it("logged no console errors along the way", () => {
    assert.deepEqual(errors, []);
  });
});
