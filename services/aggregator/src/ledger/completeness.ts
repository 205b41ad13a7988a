/**
 * Whether a call's chunks are all in (docs/design.md invariant 3), decided from the chunk rows of one
 * audio version. Pure: the caller loads the rows under the call's row lock and acts on the verdict.
 *
 * A chunk split for a provider's limit is `superseded`; its parts (rows with `parentChunkId`) stand
 * in for it, in their own order, and report under the original's index.
 */

export type ChunkState = "uploading" | "queued" | "running" | "transcribed" | "failed" | "superseded";

export interface LedgerChunk {
  id: string;
  index: number;
  parentChunkId: string | null;
  status: ChunkState;
  startOffsetSeconds: number;
  errorCode: string | null;
  errorMessage: string | null;
  /** When the chunk turned terminal; the fan-in latency is measured from the latest. */
  finishedAt?: Date | null;
}

export interface FailedChunk {
  /** The index the client knows: a failed part reports its original chunk's index. */
  index: number;
  chunkId: string;
  errorCode: string;
  errorMessage: string;
}

export type Completeness<C extends LedgerChunk = LedgerChunk> =
  | { state: "pending"; reason: string }
  /** Under the `fail` policy: the first chunk (in call order) that failed for good. */
  | { state: "failed"; failed: FailedChunk }
  /** Every chunk terminal; `transcribed` in call order, `missing` the indexes left out (partial). */
  | { state: "complete"; transcribed: { chunk: C; index: number }[]; missing: FailedChunk[] };

export interface CompletenessInput<C extends LedgerChunk> {
  uploadFinished: boolean;
  expectedChunkCount: number | null;
  policy: "fail" | "partial";
  chunks: readonly C[];
}

const TERMINAL_LEAF: ReadonlySet<ChunkState> = new Set(["transcribed", "failed"]);

type Leaf<C> = { chunk: C; topIndex: number };

export function evaluateCompleteness<C extends LedgerChunk>(input: CompletenessInput<C>): Completeness<C> {
  const partsOf = new Map<string, C[]>();
  const topLevel = new Map<number, C>();
  for (const chunk of input.chunks) {
    if (chunk.parentChunkId === null) topLevel.set(chunk.index, chunk);
    else partsOf.set(chunk.parentChunkId, [...(partsOf.get(chunk.parentChunkId) ?? []), chunk]);
  }

  // Leaves in call order: top-level chunks by index, a superseded chunk's parts by their offset.
  const leaves: Leaf<C>[] = [];
  const unresolved: string[] = [];
  const expand = (chunk: C, topIndex: number, depth: number): void => {
    if (chunk.status !== "superseded") {
      leaves.push({ chunk, topIndex });
      return;
    }
    const parts = [...(partsOf.get(chunk.id) ?? [])].sort((a, b) => a.startOffsetSeconds - b.startOffsetSeconds || a.index - b.index);
    // A superseded chunk without parts cannot happen through the splitter (one transaction);
    // treating it as pending keeps the ledger from declaring a call complete on a hole.
    if (parts.length === 0 || depth > 8) unresolved.push(`chunk ${topIndex} is superseded but has no parts`);
    for (const part of parts) expand(part, topIndex, depth + 1);
  };
  const highest = Math.max(-1, ...topLevel.keys());
  const count = input.expectedChunkCount ?? highest + 1;
  for (let index = 0; index < count; index++) {
    const chunk = topLevel.get(index);
    if (chunk) expand(chunk, index, 0);
    else unresolved.push(`chunk ${index} has not arrived`);
  }

  const failures: FailedChunk[] = leaves
    .filter((leaf) => leaf.chunk.status === "failed")
    .map(({ chunk, topIndex }) => ({
      index: topIndex,
      chunkId: chunk.id,
      errorCode: chunk.errorCode ?? "chunk_failed",
      errorMessage: chunk.errorMessage ?? "the chunk failed without a recorded reason",
    }));

  // Under `fail` the outcome is known at the first failure: waiting for the rest changes nothing.
  if (input.policy === "fail" && failures.length > 0) return { state: "failed", failed: failures[0]! };

  if (!input.uploadFinished || input.expectedChunkCount === null) return { state: "pending", reason: "the upload is not finished" };
  if (unresolved.length > 0) return { state: "pending", reason: unresolved[0]! };
  const open = leaves.find((leaf) => !TERMINAL_LEAF.has(leaf.chunk.status));
  if (open) return { state: "pending", reason: `chunk ${open.topIndex} is ${open.chunk.status}` };

  const missing = dedupeByIndex(failures);
  return {
    state: "complete",
    transcribed: leaves
      .filter((leaf) => leaf.chunk.status === "transcribed")
      .map((leaf) => ({ chunk: leaf.chunk, index: leaf.topIndex })),
    missing,
  };
}

const dedupeByIndex = (failures: FailedChunk[]): FailedChunk[] => {
  const seen = new Set<number>();
  return failures.filter((failure) => (seen.has(failure.index) ? false : (seen.add(failure.index), true)));
};
