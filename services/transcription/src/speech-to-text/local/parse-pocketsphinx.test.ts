import { describe, expect, it } from "vitest";
import { parsePocketsphinx } from "./parse-pocketsphinx.ts";

const output = `the quick brown fox
<s> 0.000 0.130 0.999400
the 0.140 0.250 0.798495
quick 0.260 0.520 0.143629
<sil> 0.530 0.600 0.99
tomorrow(2) 0.610 0.920 0.993222
[NOISE] 0.930 1.000 0.5
</s> 1.010 1.200 1.000000
please call
<s> 10.530 10.600 1.000000
please 13.770 14.060 0.993719
++BREATH++ 14.100 14.200 0.9
call 14.210 14.500 0.971413
</s> 16.810 16.920 1.000000
`;

describe("parsePocketsphinx", () => {
  it("turns utterances into segments with word times, dropping fillers and alternate marks", () => {
    const result = parsePocketsphinx(output);
    expect(result.text).toBe("the quick tomorrow please call");
    expect(result.segments.map((s) => [s.start, s.end, s.text])).toEqual([
      [0.14, 0.92, "the quick tomorrow"],
      [13.77, 14.5, "please call"],
    ]);
    expect(result.segments[0]!.words![2]).toEqual({ word: "tomorrow", start: 0.61, end: 0.92, confidence: 0.993222 });
  });

  it("gives an empty transcription for silence", () => {
    expect(parsePocketsphinx("\n<s> 0.000 0.130 0.99\n</s> 0.2 0.3 1.0\n")).toEqual({ text: "", segments: [], language: "en" });
  });
});
