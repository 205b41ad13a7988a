import type { CallReport } from "./process-call.ts";

const seconds = (from: string | null, to: string | null): string =>
  from && to ? `${((Date.parse(to) - Date.parse(from)) / 1000).toFixed(1)} s` : "—";

/** The report `callflow process` prints once the call is terminal. */
export function renderReport(report: CallReport): string {
  const { call } = report;
  const lines: string[] = [];
  lines.push(`Call ${report.callId}: ${report.status}${call.durationSeconds ? ` (${call.durationSeconds.toFixed(1)} s of audio)` : ""}`);
  if (call.error) lines.push(`  failed at ${call.failedStage ?? "?"}: ${call.error.code} — ${call.error.message ?? ""}`);
  for (const chunk of call.chunks.failed) lines.push(`  chunk ${chunk.index} failed: ${chunk.error?.code ?? "?"} — ${chunk.error?.message ?? ""}`);

  lines.push("", "Stage timeline");
  for (const stage of call.stages) {
    const error = stage.error ? `  ${stage.error.code}` : "";
    lines.push(`  ${stage.stage.padEnd(14)} v${stage.audioVersion}  ${stage.status.padEnd(9)}  attempt ${stage.attempt}  ${seconds(stage.startedAt, stage.finishedAt)}${error}`);
  }

  if (report.transcript) {
    lines.push("", `Transcript${report.transcript.partial ? ` (partial: chunks ${report.transcript.missingChunkIndexes.join(", ")} missing)` : ""}`);
    lines.push(wrap(report.transcript.text || "(no speech recognised)", 96, "  "));
  }
  if (report.summary) {
    const { content, model } = report.summary;
    lines.push("", `Summary (${model})`, wrap(content.summary, 96, "  "));
    if (content.keyPoints.length) lines.push("  Key points:", ...content.keyPoints.map((point) => wrap(`- ${point}`, 94, "    ")));
    if (content.actionItems.length) lines.push("  Action items:", ...content.actionItems.map((item) => wrap(`- ${item}`, 94, "    ")));
    lines.push(`  Sentiment: ${content.sentiment}`);
    const fields = Object.entries(content.fields).filter(([, value]) => value !== null);
    if (fields.length) lines.push(`  Fields: ${fields.map(([name, value]) => `${name}=${value}`).join(", ")}`);
  }
  if (report.error && !call.error) lines.push("", `Error: ${report.error.code} — ${report.error.message}`);
  return lines.join("\n");
}

function wrap(text: string, width: number, indent: string): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines.join("\n");
}
