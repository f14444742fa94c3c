/**
 * The reports: results.json, junit.xml, summary.md and a self-contained index.html, written
 * atomically into reports/<run-id>/ (see write.ts), plus reading and merging saved results.
 */
export type {
  CheckpointStats,
  CheckpointSummary,
  JsonValue,
  OutputDiff,
  RunCheck,
  RunFault,
  RunRecord,
  RunRestore,
  RunSet,
  RunTotals,
  TimelineEvent,
} from "./types.ts";
export {
  MAX_TIMELINE_EVENTS,
  checkpointOutcome,
  checkpointStatusLabel,
  computeTotals,
  describeFault,
  faultsFromTrace,
  formatAt,
  formatBytes,
  formatMs,
  maxAlignment,
  naturalCompare,
  runAnchor,
  sortLanes,
  timelineFromTrace,
} from "./types.ts";
export { summarizeCheckpoints } from "./view.ts";
export { mergeRunSets, parseRunSet, readRunSet, toResultsJson } from "./json.ts";
export type { MergeOptions, ParseRunSetResult } from "./json.ts";
export { escapeXml, failureMessage, toJunitXml } from "./junit.ts";
export { mdCode, mdText, toMarkdownSummary } from "./markdown.ts";
export type { MarkdownOptions } from "./markdown.ts";
export { checkpointTable, escapeHtml, hasDetails, timelineSvg, toHtml } from "./html.ts";
export { writeFileAtomic, writeReports } from "./write.ts";
export type { ReportPaths } from "./write.ts";
