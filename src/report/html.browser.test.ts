/**
 * The HTML report in a real browser: Debian's chromium driven by playwright-core. It renders, the
 * timeline is there with lanes and checkpoint spans, the filter works, nothing logs an error, and
 * hostile strings stay text. Keeps screenshots in reports/screenshots/ (report.png: the page as it
 * opens; report-run.png: a failing run's section with its timeline).
 *
 * Without /usr/bin/chromium the tests are skipped (with a note), unless STREAMSIM_REQUIRE_BROWSER=1,
 * in which case they fail and say how to install it.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { syntheticRunSet } from "../../bench/reports.ts";
import type { RunRecord, RunSet } from "./types.ts";
import { computeTotals } from "./types.ts";
import { writeReports } from "./write.ts";

const CHROMIUM = "/usr/bin/chromium";

// The DOM as the page functions below use it (the project compiles without the DOM library).
type PageElement = { getAttribute(name: string): string | null };
type PageGlobals = {
  getComputedStyle(e: unknown): { fill: string };
  scrollTo(x: number, y: number): void;
  document: { getElementsByTagName(tag: string): { readonly length: number; readonly [i: number]: PageElement | undefined } };
};
const available = existsSync(CHROMIUM);
const required = process.env.STREAMSIM_REQUIRE_BROWSER === "1";
const SCREENSHOT = fileURLToPath(new URL("../../reports/screenshots/report.png", import.meta.url));

if (!available && !required) {
  console.warn(`html.browser.test.ts: skipped, ${CHROMIUM} not found (apt-get install -y chromium; set STREAMSIM_REQUIRE_BROWSER=1 to make this a failure)`);
}

if (!available && required) {
  test("chromium is installed (STREAMSIM_REQUIRE_BROWSER=1)", () => {
    expect.fail(`STREAMSIM_REQUIRE_BROWSER=1 but ${CHROMIUM} does not exist; install it with: apt-get update && apt-get install -y chromium`);
  });
}

describe.skipIf(!available)("index.html in headless chromium", () => {
  let browser: Browser;
  let dir = "";

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "streamsim-html-browser-"));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
  });
  afterAll(async () => {
    await browser?.close();
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  /** Opens a report and collects everything that would mean a broken page. */
  async function open(set: RunSet, name: string, hash = ""): Promise<{ page: Page; problems: string[] }> {
    const paths = writeReports(join(dir, name), set);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("dialog", (d) => {
      problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    page.on("request", (r) => {
      if (!r.url().startsWith("file:")) problems.push(`network request: ${r.url()}`);
    });
    await page.goto(pathToFileURL(paths.html).href + hash);
    return { page, problems };
  }

  test("renders the summary, the runs table and a timeline with lanes and checkpoint spans", async () => {
    const set = syntheticRunSet(12, { failEvery: 6 });
    const { page, problems } = await open(set, "plain", "#run-5");
    expect(await page.title()).toBe("streamsim report · bench");
    expect(await page.locator(".headline").textContent()).toBe("2 of 12 runs did not behave as expected.");
    expect(await page.locator(".card .value").allTextContents()).toEqual(expect.arrayContaining(["12", "10", "2"]));
    expect(await page.locator("table.runs tbody tr").count()).toBe(12);

    const svg = page.locator('svg.timeline[data-run="run-5"]');
    await expect.poll(() => svg.isVisible()).toBe(true);
    const box = await svg.boundingBox();
    expect(box?.width).toBeGreaterThan(600);
    expect(box?.height).toBeGreaterThan(150);
    const lanes = await svg.locator("g.lane").evaluateAll((gs) => gs.map((g) => g.getAttribute("data-lane")));
    expect(lanes).toEqual(["job", "jm", "tm-1", "window#0", "window#1", "window#2", "window#3", "broker"]);
    expect(await svg.locator("rect.span.checkpoint").count()).toBe(10);
    expect(await svg.locator("rect.span.checkpoint.outcome-expired").count()).toBe(1);
    // Spans are drawn with their outcome's colour, not the default fill.
    const fills = await svg.locator("rect.span.checkpoint").evaluateAll((rs) => [...new Set(rs.map((r) => (globalThis as unknown as PageGlobals).getComputedStyle(r).fill))]);
    expect(fills.length).toBe(2);
    expect(fills).not.toContain("rgb(0, 0, 0)");
    expect(await page.locator("#run-5 table.checkpoints tbody tr").count()).toBe(10);

    // The page as it opens (summary and runs), and the failing run's section (timeline, checkpoints).
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.evaluate(() => (globalThis as unknown as PageGlobals).scrollTo(0, 0));
    await page.screenshot({ path: SCREENSHOT });
    await page.locator("#run-5").screenshot({ path: SCREENSHOT.replace(/\.png$/, "-run.png") });
    expect(problems).toEqual([]);
    await page.close();
  });

  test("the verdict filter and the text filter show the matching runs", async () => {
    const { page, problems } = await open(syntheticRunSet(12, { failEvery: 6 }), "filter");
    const visible = () => page.locator("table.runs tbody tr:not([hidden])").count();
    await page.click('[data-filter="unexpected"]');
    expect(await visible()).toBe(2);
    expect(await page.locator("#shown-count").textContent()).toBe("2");
    await page.click('[data-filter="pass"]');
    expect(await visible()).toBe(10);
    await page.click('[data-filter="all"]');
    await page.fill("#run-search", "run-11");
    expect(await visible()).toBe(1);
    await page.fill("#run-search", "no such run");
    expect(await visible()).toBe(0);
    expect(await page.locator("#no-runs").isVisible()).toBe(true);
    expect(problems).toEqual([]);
    await page.close();
  });

  test("hostile strings from a scenario stay text and run nothing", async () => {
    const XSS = "<script>alert(1)</script><img src=x onerror=alert(2)>";
    const base = syntheticRunSet(2, { failEvery: 2 });
    const run: RunRecord = { ...(base.runs[1] as RunRecord), name: XSS, summary: XSS, checks: [{ check: XSS, ok: false, message: XSS }] };
    const set: RunSet = { ...base, runs: [base.runs[0] as RunRecord, run], totals: computeTotals([base.runs[0] as RunRecord, run]) };
    const { page, problems } = await open(set, "hostile");
    expect(await page.locator("#run-1 .run-summary").textContent()).toBe(XSS);
    expect(await page.locator("img").count()).toBe(0);
    expect(await page.locator("script").count()).toBe(1);
    expect(problems).toEqual([]);
    await page.close();
  });

  test("junit.xml is well-formed XML", async () => {
    const XSS = "<script>alert(1)</script> & \u0001";
    const base = syntheticRunSet(4, { failEvery: 2 });
    const runs = base.runs.map((r) => ({ ...r, name: XSS, summary: XSS }));
    const paths = writeReports(join(dir, "junit"), { ...base, runs, totals: computeTotals(runs) });
    const page = await browser.newPage();
    await page.goto(pathToFileURL(paths.junit).href);
    const parsed = await page.evaluate(() => {
      const doc = (globalThis as unknown as PageGlobals).document;
      return {
        error: doc.getElementsByTagName("parsererror").length,
        cases: doc.getElementsByTagName("testcase").length,
        failures: doc.getElementsByTagName("failure").length,
        classname: doc.getElementsByTagName("testcase")[0]?.getAttribute("classname"),
      };
    });
    expect(parsed).toEqual({ error: 0, cases: 4, failures: 2, classname: "<script>alert(1)</script> & \uFFFD" });
    await page.close();
  });
});
