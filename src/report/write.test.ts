import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { syntheticRunSet } from "../../bench/reports.ts";
import { readRunSet } from "./json.ts";
import { writeFileAtomic, writeReports } from "./write.ts";

const root = mkdtempSync(join(tmpdir(), "streamsim-write-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("writeReports", () => {
  test("writes the four reports into a new directory and leaves no temporary file", () => {
    const dir = join(root, "reports", "run-1");
    const set = syntheticRunSet(10, { failEvery: 5 });
    const paths = writeReports(dir, set);
    expect(paths).toEqual({
      results: join(dir, "results.json"),
      junit: join(dir, "junit.xml"),
      summary: join(dir, "summary.md"),
      html: join(dir, "index.html"),
    });
    expect(readdirSync(dir).sort()).toEqual(["index.html", "junit.xml", "results.json", "summary.md"]);
    expect(readRunSet(paths.results)).toEqual({ ok: true, runSet: set });
    expect(readFileSync(paths.html, "utf8")).toContain("2 of 10 runs did not behave as expected.");
  });

  test("rewriting replaces the files whole", () => {
    const dir = join(root, "again");
    writeReports(dir, syntheticRunSet(10, { failEvery: 5 }));
    const paths = writeReports(dir, syntheticRunSet(3, { failEvery: 0 }));
    expect(readFileSync(paths.summary, "utf8")).toContain("all 3 runs behaved as expected");
    expect(readdirSync(dir)).toHaveLength(4);
  });
});

describe("writeFileAtomic", () => {
  test("a failed write leaves neither a temporary file nor a partial target", () => {
    const dir = join(root, "atomic");
    mkdirSync(dir, { recursive: true });
    const target = join(dir, "index.html");
    mkdirSync(target); // renaming a file over a directory fails
    expect(() => writeFileAtomic(target, "x")).toThrow();
    expect(readdirSync(dir)).toEqual(["index.html"]);
  });

  test("replaces the content and removes the temporary file", () => {
    const target = join(root, "swap.txt");
    writeFileSync(target, "old");
    writeFileAtomic(target, "new");
    expect(readFileSync(target, "utf8")).toBe("new");
    expect(existsSync(`${target}.tmp-${process.pid}`)).toBe(false);
  });
});
