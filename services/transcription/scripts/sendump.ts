/**
 * pocketsphinx ships its PTM model's mixture weights only as `sendump`: per feature stream and
 * codeword, one byte per senone, the weight's −log base 1.0001 shifted right by 10 bits. sphinxtrain's
 * bw reads the full `mixture_weights` file (Sphinx-III binary: a text header, a byte-order word, the
 * dimensions and float32 weights per senone, stream and codeword). This turns the one into the other;
 * the quantisation stays (each senone's weights are renormalised to sum to one).
 */
const MIXW_SHIFT = 10;
const BYTE_ORDER_MAGIC = 0x11223344;

export function mixtureWeightsFromSendump(sendump: Buffer): Buffer {
  let offset = 0;
  const readInt = () => {
    const value = sendump.readInt32LE(offset);
    offset += 4;
    return value;
  };
  const headers: string[] = [];
  for (;;) {
    const length = readInt();
    if (length === 0) break;
    if (length < 0 || length > 65_536) throw new Error(`sendump: a header string of ${length} bytes; not a little-endian sendump`);
    headers.push(sendump.toString("latin1", offset, offset + length - 1));
    offset += length;
  }
  const header = (key: string) => Number(headers.find((line) => line.startsWith(`${key} `))?.split(" ")[1]);
  if (header("cluster_count") !== 0) throw new Error("sendump: clustered weights (cluster_count > 0) are not supported");
  const streams = header("feature_count");
  const codewords = readInt();
  const senones = readInt();
  if (sendump.length - offset !== streams * codewords * senones) {
    throw new Error(`sendump: ${sendump.length - offset} bytes of weights, expected ${streams} × ${codewords} × ${senones}`);
  }

  const weights = new Float32Array(senones * streams * codewords);
  for (let stream = 0; stream < streams; stream++) {
    for (let codeword = 0; codeword < codewords; codeword++) {
      const row = offset + (stream * codewords + codeword) * senones;
      for (let senone = 0; senone < senones; senone++) {
        weights[(senone * streams + stream) * codewords + codeword] = 1.0001 ** -(sendump[row + senone]! << MIXW_SHIFT);
      }
    }
  }
  for (let start = 0; start < weights.length; start += codewords) {
    const distribution = weights.subarray(start, start + codewords);
    const sum = distribution.reduce((total, weight) => total + weight, 0);
    for (let i = 0; i < codewords; i++) distribution[i]! /= sum;
  }

  const text = "s3\nversion 1.0\n";
  const end = "endhdr\n";
  // The binary part starts on a 4-byte boundary, as sphinxtrain's own writer pads it.
  const head = Buffer.from(text + " ".repeat((4 - ((text.length + end.length) % 4)) % 4) + end, "latin1");
  const dims = Buffer.alloc(20);
  dims.writeUInt32LE(BYTE_ORDER_MAGIC, 0);
  dims.writeUInt32LE(senones, 4);
  dims.writeUInt32LE(streams, 8);
  dims.writeUInt32LE(codewords, 12);
  dims.writeUInt32LE(weights.length, 16);
  return Buffer.concat([head, dims, Buffer.from(weights.buffer, weights.byteOffset, weights.byteLength)]);
}
