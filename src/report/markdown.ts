/**
 * summary.md: for CI step summaries ($GITHUB_STEP_SUMMARY) and pull-request comments. Totals, a
 * table of the runs that did not behave as expected with their one-sentence summary and replay
 * command, and the checkpoint statistics over all runs.
 */
import type { RunRecord, RunSet } from "./types.ts";
import { formatBytes, formatMs } from "./types.ts";
import type { RunSetView } from "./view.ts";
import { viewOfSet } from "./view.ts";

export type MarkdownOptions = {
  /** Most unexpected runs listed in the table (CI summaries are limited in size); default 100. */
  readonly maxRows?: number;
};

/** Text for a Markdown table cell: one line, pipes and markup escaped, HTML shown as text. */
export function mdText(s: string): string {
  return s
    .replace(/[\r\n]+/g, " ")
    .replace(/([\\`*_[\]#|~])/g, "\\$1")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;");
}

/** An inline code span that survives backticks in the text and sits in a table cell. */
export function mdCode(s: string): string {
  const one = s.replace(/[\r\n]+/g, " ");
  let longest = 0;
  for (const m of one.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  const fence = "`".repeat(longest + 1);
  const pad = one.startsWith("`") || one.endsWith("`") ? " " : "";
  return `${fence}${pad}${one.replace(/\|/g, "\\|")}${pad}${fence}`;
}

function verdictCell(r: RunRecord): string {
  const expected = r.expected ?? "pass";
  return r.verdict === expected ? r.verdict : `${r.verdict} (expected ${expected})`;
}

/** summary.md for a run set, or from its view (what a sweep keeps of its runs, see view.ts). */
export function toMarkdownSummary(from: RunSet | RunSetView, options: MarkdownOptions = {}): string {
  const set = "runs" in from ? viewOfSet(from) : from;
  const maxRows = options.maxRows ?? 100;
  const t = set.totals;
  const out: string[] = [];
  const headline =
    t.unexpected === 0
      ? `all ${t.runs} ${t.runs === 1 ? "run" : "runs"} behaved as expected`
      : `${t.unexpected} of ${t.runs} ${t.runs === 1 ? "run" : "runs"} did not behave as expected`;
  out.push(`## streamsim: ${headline}`, "");
  const meta = [`run ${mdCode(set.runId)}`, mdText(set.createdAt)];
  if (set.seed !== undefined) meta.push(`seed ${set.seed}`);
  if (set.shard !== undefined) meta.push(`shard ${mdText(set.shard)}`);
  meta.push(mdCode(set.command));
  out.push(meta.join(" · "), "");
  out.push("| runs | passed | failed | unexpected |", "|---:|---:|---:|---:|", `| ${t.runs} | ${t.passed} | ${t.failed} | ${t.unexpected} |`, "");

  // Every run that did not behave as expected has details, so the view keeps it.
  const bad = set.kept.filter((r) => !r.asExpected);
  if (bad.length > 0) {
    out.push("### Unexpected results", "");
    out.push("| run | scenario | seed | verdict | summary | replay |", "|---|---|---:|---|---|---|");
    for (const r of bad.slice(0, maxRows)) {
      out.push(`| ${mdText(r.id)} | ${mdText(r.name)} | ${r.seed} | ${mdText(verdictCell(r))} | ${mdText(r.summary)} | ${mdCode(r.replayCommand)} |`);
    }
    if (bad.length > maxRows) out.push("", `... and ${bad.length - maxRows} more; see results.json or index.html.`);
    out.push("");
  }

  const c = set.checkpoints;
  out.push("### Checkpoints", "");
  if (c.total === 0) out.push("No checkpoints were taken.", "");
  else {
    const failed = c.failedByOutcome.map(([o, n]) => `${n} ${mdText(o)}`).join(", ") || "none";
    out.push(
      "| checkpoints | completed | not completed | median duration | p95 duration | max duration | max alignment | max state |",
      "|---:|---:|---|---:|---:|---:|---:|---:|",
      `| ${c.total} | ${c.completed} | ${failed} | ${formatMs(c.durationMsMedian)} | ${formatMs(c.durationMsP95)} | ${formatMs(c.durationMsMax)} | ${formatMs(c.alignmentMsMax)} | ${formatBytes(c.stateBytesMax)} |`,
      "",
    );
  }
  out.push("Full report: `index.html` (timelines, checkpoint tables, output differences); machine-readable: `results.json`.", "");
  return out.join("\n");
}
