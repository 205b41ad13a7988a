/**
 * Which objects make up a call's audio, in call order, decided from its chunk rows. A chunk split for
 * a provider's limit (`superseded`) has parts (rows with `parentChunkId`); the original is one object
 * with no seams, so it is used while it still exists, and its parts (in their own order) once a
 * retention policy has deleted it.
 */

export interface ChunkRow {
  id: string;
  index: number;
  parentChunkId: string | null;
  objectKey: string;
  startOffsetSeconds: number;
}

export interface PlannedInput {
  chunkId: string;
  /** The index the client knows: a part reports its top-level chunk's index. */
  index: number;
  objectKey: string;
}

export interface MergePlan {
  inputs: PlannedInput[];
  /** Every object of each top-level chunk (original and parts), by its index: what retention may delete. */
  objectsByIndex: Map<number, string[]>;
}

const MAX_SPLIT_DEPTH = 8;

export async function planMerge(chunks: readonly ChunkRow[], hasObject: (key: string) => Promise<boolean>): Promise<MergePlan> {
  const partsOf = new Map<string, ChunkRow[]>();
  for (const chunk of chunks) {
    if (chunk.parentChunkId !== null) partsOf.set(chunk.parentChunkId, [...(partsOf.get(chunk.parentChunkId) ?? []), chunk]);
  }
  const familyKeys = (chunk: ChunkRow): string[] => [chunk.objectKey, ...(partsOf.get(chunk.id) ?? []).flatMap(familyKeys)];

  const inputs: PlannedInput[] = [];
  const resolve = async (chunk: ChunkRow, index: number, depth: number): Promise<void> => {
    const parts = [...(partsOf.get(chunk.id) ?? [])].sort((a, b) => a.startOffsetSeconds - b.startOffsetSeconds || a.index - b.index);
    if (parts.length === 0 || depth >= MAX_SPLIT_DEPTH || (await hasObject(chunk.objectKey))) {
      inputs.push({ chunkId: chunk.id, index, objectKey: chunk.objectKey });
      return;
    }
    for (const part of parts) await resolve(part, index, depth + 1);
  };

  const topLevel = chunks.filter((chunk) => chunk.parentChunkId === null).sort((a, b) => a.index - b.index);
  const objectsByIndex = new Map<number, string[]>();
  for (const chunk of topLevel) {
    await resolve(chunk, chunk.index, 0);
    objectsByIndex.set(chunk.index, familyKeys(chunk));
  }
  return { inputs, objectsByIndex };
}
