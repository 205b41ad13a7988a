// Phone-line audio on the local (pocketsphinx) path: word error rate of festival calls at 16 kHz and
// after an 8 kHz mu-law line (`sox in.wav -r 8000 -e u-law phone.wav`, the line), the phone
// audio decoded the old way (`narrowband: "as-wideband"`: upsampled, the wideband front end), with the
// narrowband front end alone (noise floor above 4 kHz + the recording's own cepstral mean), and as the
// service decodes it now: that front end plus the phone-line MLLR transform.
// The calls are two-party (the caller pitched down, as the demo's); none is a test's fixture, and no
// sentence of theirs is in the transform's corpus (services/transcription/test/narrowband.test.ts checks).
// Prints WER per call and the means; target: narrowband mean <= 0.30, 16 kHz no worse than before.
// Run: pnpm --filter @callflow/bench bench:narrowband   (BENCH_NARROWBAND_CALLS=2 for the first two)
import path from "node:path";
import { probeAudio, runMediaTool } from "../packages/media/src/index.ts";
import { synthesizeCall } from "../packages/cli/src/sample-call.ts";
import { wordErrorRate } from "../packages/testkit/src/wer.ts";
import { createPocketsphinx } from "../services/transcription/src/speech-to-text/local/pocketsphinx.ts";

type Turn = { speaker: "agent" | "caller"; text: string };
const call = (...texts: string[]): Turn[] => texts.map((text, n) => ({ speaker: n % 2 === 0 ? "agent" : "caller", text }));

const CALLS: Record<string, Turn[]> = {
  billing: call(
    "Good afternoon, you have reached the billing department. My name is Kevin. How can I help you?",
    "Hi Kevin, I was charged twice for my subscription this month and I would like a refund.",
    "I can see the two charges on your account. I will refund the second one today.",
    "Thank you. How long will it take to show up on my card?",
    "It usually takes three to five business days.",
  ),
  dentist: call(
    "Hello, this is Maria calling from the dental clinic to confirm your appointment.",
    "Oh hello. Is it still on Thursday at ten in the morning?",
    "Yes, Thursday at ten. Please arrive fifteen minutes early to fill in the forms.",
    "Great, I will be there. Can I bring my daughter as well?",
    "Of course, we will see you both on Thursday.",
  ),
  insurance: call(
    "Thank you for calling the insurance office. Can I have your policy number please?",
    "Sure, it is four seven two nine one. I want to report a car accident from last night.",
    "I am sorry to hear that. Was anyone hurt in the accident?",
    "No, nobody was hurt, but the front of my car is badly damaged.",
    "I will open a claim now and send an adjuster to look at the car tomorrow.",
  ),
  rental: call(
    "Hi, I am calling about the apartment you listed for rent on Main Street.",
    "Hello, yes, it is still available. It has two bedrooms and a large kitchen.",
    "How much is the monthly rent, and are pets allowed?",
    "The rent is twelve hundred dollars and small pets are fine.",
    "Could I come and see it on Saturday afternoon?",
  ),
  delivery: call(
    "Good morning, this is the delivery team. We tried to bring your package yesterday but nobody was home.",
    "Sorry about that. I was at work all day. Can you leave it with my neighbour next time?",
    "Yes, we can. Which house number does your neighbour live at?",
    "Number fourteen, right across the road. She is home most afternoons.",
  ),
};

const tools = { ffmpeg: "ffmpeg", ffprobe: "ffprobe", timeoutMs: 120_000 };
const ctx = { signal: new AbortController().signal, heartbeat: () => {} };
const pocketsphinx = (narrowband: "adapt" | "as-wideband", phoneLineTransform = true) =>
  createPocketsphinx({ tools, binary: "pocketsphinx_continuous", timeoutBaseMs: 120_000, timeoutPerAudioSecondMs: 10_000, maxDurationSeconds: 600, narrowband, phoneLineTransform });
const adapted = pocketsphinx("adapt");
const frontEndAlone = pocketsphinx("adapt", false);
const before = pocketsphinx("as-wideband");

const wer = async (stt: ReturnType<typeof pocketsphinx>, file: string, script: string) =>
  wordErrorRate(script, (await stt.transcribe({ path: file, ...(await probeAudio(tools, file)) }, ctx)).text);

const line = (name: string, row: Omit<(typeof rows)[number], "name">) =>
  `${name.padEnd(10)} 16 kHz ${row.wide.toFixed(3)}   8 kHz mu-law: old way ${row.phoneBefore.toFixed(3)}, front end alone ${row.phoneFrontEnd.toFixed(3)}, now ${row.phoneAfter.toFixed(3)}`;
const names = Object.keys(CALLS).slice(0, Number(process.env.BENCH_NARROWBAND_CALLS ?? Object.keys(CALLS).length));
const rows: { name: string; wide: number; phoneBefore: number; phoneFrontEnd: number; phoneAfter: number }[] = [];
for (const name of names) {
  const turns = CALLS[name]!;
  const script = turns.map((turn) => turn.text).join(" ");
  const synthesized = await synthesizeCall(turns);
  try {
    const phone = path.join(synthesized.directory, "phone.wav");
    await runMediaTool("sox", [synthesized.call, "-r", "8000", "-e", "u-law", phone], { timeoutMs: tools.timeoutMs });
    const row = {
      name,
      wide: await wer(adapted, synthesized.call, script),
      phoneBefore: await wer(before, phone, script),
      phoneFrontEnd: await wer(frontEndAlone, phone, script),
      phoneAfter: await wer(adapted, phone, script),
    };
    rows.push(row);
    console.log(line(name, row));
  } finally {
    await synthesized.cleanup();
  }
}
const mean = (pick: (row: (typeof rows)[number]) => number) => rows.reduce((sum, row) => sum + pick(row), 0) / rows.length;
const after = mean((row) => row.phoneAfter);
console.log(line("mean", { wide: mean((row) => row.wide), phoneBefore: mean((row) => row.phoneBefore), phoneFrontEnd: mean((row) => row.phoneFrontEnd), phoneAfter: after }));
console.log(after <= 0.3 ? "target met: narrowband mean WER <= 0.30" : `target missed: narrowband mean WER ${after.toFixed(3)} > 0.30`);
if (after > 0.3) process.exitCode = 1;
