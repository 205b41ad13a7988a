/** How the console writes times, durations and sizes: short, in the reader's time zone, never ambiguous. */

const pad = (n: number) => String(n).padStart(2, "0");

/** 2026-03-01 14:05:09, local time. */
export const formatTime = (iso: string | null | undefined): string => {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "—";
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
};

/** 14:05:09, local time: within a timeline whose day is shown once. */
export const formatClock = (iso: string | null | undefined): string => (iso ? formatTime(iso).slice(11) : "—");

/** A span of time for people: 850 ms, 12.4 s, 3 min 20 s, 2 h 05 min, 3 d 4 h. */
export const formatSpan = (ms: number | null | undefined): string => {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  if (ms < 1_000) return `${Math.max(0, Math.round(ms))} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${pad(Math.floor(seconds % 60))} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${pad(minutes % 60)} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
};

/** A position in a recording: 0:07, 12:34, 1:02:03. */
export const formatOffset = (seconds: number | null | undefined): string => {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  const whole = Math.max(0, Math.floor(seconds));
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
};

export const formatBytes = (bytes: number | null | undefined): string => {
  if (bytes === null || bytes === undefined) return "—";
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
};

/** The first block of a UUID: enough to tell rows apart on screen; the whole id is in the link and its title. */
export const shortId = (id: string): string => id.slice(0, 8);

/** in_progress → in progress */
export const words = (value: string): string => value.replace(/_/g, " ");

/** The API's lower-case message as a sentence: "the recording is being prepared" → "The recording is being prepared." */
export const sentence = (text: string): string => (text ? `${text[0]!.toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? "" : "."}` : text);
