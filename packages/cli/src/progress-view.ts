import cliProgress from "cli-progress";
import type { ProgressEvent } from "./api-client.ts";

/** What `callflow process` shows while a call moves: bars on a terminal, one line per change otherwise. */
export interface ProgressView {
  upload(sent: number, total: number): void;
  apply(event: ProgressEvent): void;
  stop(): void;
}

const STAGES = ["transcription", "merge", "summary", "completion"] as const;
const STAGE_STEP: Record<string, number> = { queued: 0, running: 1, succeeded: 2, failed: 2 };
const TERMINAL_CHUNK = new Set(["transcribed", "failed", "superseded"]);

export function createProgressView(output: NodeJS.WriteStream = process.stdout): ProgressView {
  if (!output.isTTY) return lineView(output);
  const bars = new cliProgress.MultiBar(
    { format: " {label} |{bar}| {detail}", barsize: 30, hideCursor: true, clearOnComplete: false, stream: output },
    cliProgress.Presets.shades_classic,
  );
  const upload = bars.create(1, 0, { label: "upload       ", detail: "" });
  const chunks = bars.create(1, 0, { label: "transcription", detail: "waiting" });
  const stages = Object.fromEntries(STAGES.slice(1).map((stage) => [stage, bars.create(2, 0, { label: stage.padEnd(13), detail: "waiting" })]));
  return {
    upload: (sent, total) => {
      upload.setTotal(total);
      upload.update(sent, { detail: `${(sent / 1_048_576).toFixed(1)} / ${(total / 1_048_576).toFixed(1)} MiB` });
    },
    apply: (event) => {
      if (event.event === "chunks") {
        const counts = event.data.byStatus;
        const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
        const done = Object.entries(counts).filter(([status]) => TERMINAL_CHUNK.has(status)).reduce((sum, [, n]) => sum + n, 0);
        chunks.setTotal(Math.max(total, 1));
        chunks.update(done, { detail: `${done}/${total} chunks` });
      } else if (event.event === "stage") {
        const { stage, status, attempt, errorCode } = event.data;
        const detail = `${status}${attempt > 1 ? ` (attempt ${attempt})` : ""}${errorCode ? ` ${errorCode}` : ""}`;
        if (stage === "transcription") chunks.update({ detail });
        else stages[stage]?.update(STAGE_STEP[status] ?? 0, { detail });
      }
    },
    stop: () => bars.stop(),
  };
}

function lineView(output: NodeJS.WriteStream): ProgressView {
  let lastUploadDecile = -1;
  const say = (line: string) => output.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
  return {
    upload: (sent, total) => {
      const decile = Math.floor((sent / total) * 10);
      if (decile !== lastUploadDecile) {
        lastUploadDecile = decile;
        say(`upload ${Math.round((sent / total) * 100)}% (${sent} of ${total} bytes)`);
      }
    },
    apply: (event) => {
      if (event.event === "stage") {
        const { stage, status, attempt, errorCode } = event.data;
        say(`${stage} ${status}${attempt > 1 ? ` attempt ${attempt}` : ""}${errorCode ? ` ${errorCode}` : ""}`);
      } else if (event.event === "chunks") {
        say(`chunks ${Object.entries(event.data.byStatus).map(([status, n]) => `${status}=${n}`).join(" ")}`);
      } else if (event.event === "call") {
        say(`call ${event.data.status}${event.data.errorCode ? ` ${event.data.errorCode}: ${event.data.errorMessage ?? ""}` : ""}`);
      }
    },
    stop: () => undefined,
  };
}
