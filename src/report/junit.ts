/**
 * junit.xml: one <testsuite> for the run set, one <testcase> per run (classname = scenario name).
 *
 * A test case fails when the run's verdict is not the expected one (a scenario that declares
 * verdict "fail" and fails passes). The failure message is the run's one-sentence summary and the
 * replay command, so a CI page shows how to reproduce it without opening anything else.
 */
import type { RunRecord, RunSet } from "./types.ts";
import type { RunSetView } from "./view.ts";
import { viewOfSet } from "./view.ts";

/** Characters XML 1.0 cannot hold at all (C0 controls but tab, LF, CR; U+FFFE/U+FFFF; lone surrogates). */
// eslint-disable-next-line no-control-regex
const INVALID_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Escapes text for XML element content and attribute values; drops characters XML cannot hold. */
export function escapeXml(s: string): string {
  return s
    .replace(INVALID_XML, "\uFFFD")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

/** An attribute value: escaped, line breaks kept as character references. */
function attr(s: string): string {
  return escapeXml(s).replace(/\r/g, "&#13;").replace(/\n/g, "&#10;").replace(/\t/g, "&#9;");
}

const seconds = (ms: number | undefined): string => ((ms ?? 0) / 1000).toFixed(3);

/** The failure message of a run: its summary and how to replay it. */
export function failureMessage(r: RunRecord): string {
  return `${r.summary} Replay: ${r.replayCommand}`;
}

function failureType(r: RunRecord): string {
  if (r.verdict === "pass") return "unexpected-pass";
  const failed = r.checks.filter((c) => !c.ok).map((c) => c.check);
  return failed.length > 0 ? failed.join(",") : "verdict";
}

function details(r: RunRecord): string {
  const lines = [
    r.summary,
    "",
    `verdict: ${r.verdict}${r.expected !== undefined ? ` (expected ${r.expected})` : ""}`,
    `scenario: ${r.name}  seed: ${r.seed}  job status: ${r.status}  simulated: ${r.durationMs} ms`,
    `trace hash: ${r.traceHash}`,
  ];
  for (const c of r.checks) lines.push(`${c.ok ? "ok  " : "FAIL"} ${c.check}: ${c.message}`);
  if (r.counterexamplePath !== undefined) lines.push(`counterexample: ${r.counterexamplePath}`);
  lines.push(`replay: ${r.replayCommand}`);
  return lines.join("\n");
}

/** junit.xml for a run set. */
export function toJunitXml(set: RunSet): string {
  return junitXmlLines(set).join("\n");
}

/** junit.xml as lines (written without one string of the whole file: see resultsJsonLines). */
export function junitXmlLines(set: RunSet): string[] {
  const out = junitHeadLines(viewOfSet(set));
  for (const r of set.runs) out.push(...junitCaseLines(r));
  out.push(...JUNIT_TAIL);
  return out;
}

/** The lines after the last test case. */
export const JUNIT_TAIL: readonly string[] = ["  </testsuite>", "</testsuites>", ""];

/**
 * The lines before the first test case: junit.xml is these, then junitCaseLines of every run in
 * set order, then JUNIT_TAIL, joined by newlines.
 */
export function junitHeadLines(set: RunSetView): string[] {
  const failures = set.unexpectedCount;
  const time = seconds(set.wallMsTotal);
  const suiteName = `streamsim ${set.runId}`;
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="streamsim" tests="${set.runCount}" failures="${failures}" errors="0" skipped="0" time="${time}">`,
    `  <testsuite name="${attr(suiteName)}" tests="${set.runCount}" failures="${failures}" errors="0" skipped="0" time="${time}" timestamp="${attr(set.createdAt)}">`,
    "    <properties>",
    `      <property name="runId" value="${attr(set.runId)}"/>`,
    `      <property name="command" value="${attr(set.command)}"/>`,
  ];
  if (set.seed !== undefined) out.push(`      <property name="seed" value="${set.seed}"/>`);
  if (set.shard !== undefined) out.push(`      <property name="shard" value="${attr(set.shard)}"/>`);
  out.push("    </properties>");
  return out;
}

/** The lines of one run's test case (a line may hold newlines of the failure's details). */
export function junitCaseLines(r: RunRecord): string[] {
  const name = r.id === r.name ? `${r.id} (seed ${r.seed})` : r.id;
  const head = `    <testcase classname="${attr(r.name)}" name="${attr(name)}" time="${seconds(r.wallMs)}"`;
  if (r.asExpected) {
    const note = r.verdict === "fail" ? `failed as expected: ${r.summary}` : r.summary;
    return [`${head}>`, `      <system-out>${escapeXml(`${note}\nreplay: ${r.replayCommand}`)}</system-out>`, "    </testcase>"];
  }
  return [`${head}>`, `      <failure message="${attr(failureMessage(r))}" type="${attr(failureType(r))}">${escapeXml(details(r))}</failure>`, "    </testcase>"];
}
