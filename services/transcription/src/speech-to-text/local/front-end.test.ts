import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { lastCepstralMean, writeFeatParams } from "./front-end.ts";

describe("the narrowband first pass", () => {
  it("reads the last cepstral mean pocketsphinx's live CMN logged, and none from a log without one", () => {
    const log = [
      "INFO: cmn_live.c(120): Update from < 41.00 -5.29 -0.12  5.09 >",
      "INFO: cmn_live.c(138): Update to   < 47.79  5.69  3.30  7.36 >",
      "INFO: cmn_live.c(88): Update from < 47.79  5.69  3.30  7.36 >",
      "INFO: cmn_live.c(105): Update to   < 46.82  2.79  3.27 -8.06 >",
    ].join("\n");
    expect(lastCepstralMean(log)).toEqual([46.82, 2.79, 3.27, -8.06]);
    expect(lastCepstralMean("INFO: continuous.c(295): nothing to decode")).toBeUndefined();
  });

  it("writes the model's feat.params with only -cmninit replaced", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "callflow-featparams-"));
    await writeFile(path.join(dir, "feat.params"), "-lowerf 130\n-upperf 6800\n-cmninit 41.00,-5.29\n-model ptm\n");
    await writeFeatParams(dir, [46.824, -2.5], path.join(dir, "out.params"));
    expect(await readFile(path.join(dir, "out.params"), "utf8")).toBe("-lowerf 130\n-upperf 6800\n-model ptm\n-cmninit 46.82,-2.50\n");
  });
});
