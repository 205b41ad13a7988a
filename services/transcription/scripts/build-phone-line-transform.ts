// Builds the phone-line MLLR transform the local path applies to narrowband audio
// (src/speech-to-text/local/phone-line-transform.ts), from the sentences in models/phone-line/corpus.txt:
//   1. each sentence is spoken by festival (as spoken, and a caller's lower pitch), sent through the
//      issue's telephone line (`sox -r 8000 -e u-law`) and prepared by the narrowband front end the
//      service uses (decodeArgs), so the transform learns exactly what the decoder will see;
//   2. sphinx_fe computes their cepstra with the acoustic model's own feat.params;
//   3. sphinxtrain's bw aligns them with the model (its mixture weights rebuilt from the packaged
//      sendump, which bw cannot read) and mllr_solve fits one mean transform; a second pass realigns
//      with the first transform applied and fits again (a third changed nothing measurable).
// Needs the Debian packages sphinxtrain and sphinxbase-utils besides the service's own tools.
// Run: pnpm --filter @callflow/transcription build:phone-line   (writes the .ts file; commit it)
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { runMediaTool, speak } from "@callflow/media";
import { decodeArgs } from "../src/speech-to-text/local/front-end.ts";
import { DEFAULT_POCKETSPHINX_MODEL_DIR } from "../src/speech-to-text/local/pocketsphinx.ts";
import { mixtureWeightsFromSendump } from "./sendump.ts";

const SPHINXTRAIN = "/usr/lib/sphinxtrain";
const MODEL_DIR = DEFAULT_POCKETSPHINX_MODEL_DIR;
const DICTIONARY = path.join(path.dirname(MODEL_DIR), "cmudict-en-us.dict");
const here = path.dirname(new URL(import.meta.url).pathname);
const CORPUS = path.join(here, "../models/phone-line/corpus.txt");
const OUTPUT = path.join(here, "../src/speech-to-text/local/phone-line-transform.ts");
/** The caller's voice of the sample calls is a quarter-tone lower; both are in the data. */
const VOICES = [{ name: "a", speech: {} }, { name: "c", speech: { pitchCents: -250 } }];
const PASSES = 2;
const TOOL_TIMEOUT_MS = 600_000;
const run = (tool: string, args: string[]) => runMediaTool(tool, args, { timeoutMs: TOOL_TIMEOUT_MS });

/** What the dictionary spells: lower case, no punctuation but the apostrophe. */
const words = (sentence: string) => sentence.toLowerCase().replace(/[^a-z' ]/g, " ").split(/\s+/).filter(Boolean);

async function main(): Promise<void> {
  const sentences = (await readFile(CORPUS, "utf8")).split("\n").map((line) => line.trim()).filter(Boolean);
  const known = new Set((await readFile(DICTIONARY, "utf8")).split("\n").map((line) => line.split(" ")[0]!.replace(/\(\d+\)$/, "")));
  const unknown = [...new Set(sentences.flatMap(words))].filter((word) => !known.has(word));
  if (unknown.length > 0) throw new Error(`words the dictionary does not have (spell them out in the corpus): ${unknown.join(", ")}`);

  const work = await mkdtemp(path.join(tmpdir(), "callflow-phone-line-"));
  try {
    const ids: string[] = [];
    const transcripts: string[] = [];
    for (const [n, sentence] of sentences.entries()) {
      for (const voice of VOICES) {
        const id = `s${String(n + 1).padStart(3, "0")}${voice.name}`;
        const file = (suffix: string) => path.join(work, `${id}${suffix}`);
        await speak(sentence, file("-16k.wav"), { ...voice.speech, timeoutMs: TOOL_TIMEOUT_MS });
        await run("sox", [file("-16k.wav"), "-r", "8000", "-e", "u-law", file("-phone.wav")]);
        await run("ffmpeg", decodeArgs({ kind: "narrowband", bandEdgeHz: 4_000 }, file("-phone.wav"), file(".wav")));
        ids.push(id);
        transcripts.push(`<s> ${words(sentence).join(" ")} </s> (${id})`);
      }
      process.stdout.write(`\rspeaking the corpus: ${n + 1}/${sentences.length} sentences`);
    }
    process.stdout.write("\n");
    await writeFile(path.join(work, "adapt.fileids"), ids.join("\n") + "\n");
    await writeFile(path.join(work, "adapt.transcription"), transcripts.join("\n") + "\n");
    const featParams = path.join(MODEL_DIR, "feat.params");
    await run("sphinx_fe", ["-argfile", featParams, "-samprate", "16000", "-c", path.join(work, "adapt.fileids"), "-di", work, "-do", work, "-ei", "wav", "-eo", "mfc", "-mswav", "yes"]);

    const mdef = path.join(work, "mdef.txt");
    await run("pocketsphinx_mdef_convert", ["-text", path.join(MODEL_DIR, "mdef"), mdef]);
    const mixw = path.join(work, "mixture_weights");
    await writeFile(mixw, mixtureWeightsFromSendump(await readFile(path.join(MODEL_DIR, "sendump"))));

    let transform: string | undefined;
    for (let pass = 1; pass <= PASSES; pass++) {
      const accum = path.join(work, `accum-${pass}`);
      await mkdir(accum);
      const bwLog = await run(path.join(SPHINXTRAIN, "bw"), [
        "-hmmdir", MODEL_DIR, "-moddeffn", mdef, "-mixwfn", mixw, "-ts2cbfn", ".ptm.",
        "-feat", "1s_c_d_dd", "-svspec", "0-12/13-25/26-38", "-cmn", "current", "-agc", "none",
        "-dictfn", DICTIONARY, "-ctlfn", path.join(work, "adapt.fileids"), "-lsnfn", path.join(work, "adapt.transcription"),
        "-cepdir", work, "-accumdir", accum, ...(transform ? ["-mllrmat", transform] : []),
      ]);
      const overall = /overall> stats (\d+) \(-?\d+\) (\S+)/.exec(bwLog);
      console.log(`pass ${pass}: ${overall ? `${overall[1]} frames aligned, mean log-likelihood per frame ${Number(overall[2]).toFixed(1)}` : "aligned"}`);
      const next = path.join(work, `mllr-${pass}`);
      await run(path.join(SPHINXTRAIN, "mllr_solve"), [
        "-meanfn", path.join(MODEL_DIR, "means"), "-varfn", path.join(MODEL_DIR, "variances"), "-outmllrfn", next, "-accumdir", accum,
      ]);
      transform = next;
    }
    const matrix = (await readFile(transform!, "utf8")).trim();
    await writeFile(OUTPUT, [
      "// Generated by scripts/build-phone-line-transform.ts from models/phone-line/corpus.txt: do not edit, rebuild.",
      `// ${sentences.length} sentences × ${VOICES.length} voices, ${PASSES} passes of bw + mllr_solve against ${MODEL_DIR}.`,
      "/** pocketsphinx's `-mllr` file for narrowband audio: one mean transform (A, b) per feature stream. */",
      `export const PHONE_LINE_MLLR = \`${matrix}\n\`;`,
      "",
    ].join("\n"));
    console.log(`wrote ${path.relative(process.cwd(), OUTPUT)}`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
