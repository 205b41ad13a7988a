// Child process of bench/storage.ts: the embedded S3 server, kept out of the measured process.
import { startEmbeddedS3 } from "../packages/storage/src/index.ts";

const bucket = process.argv[2] ?? "bench-audio";
const s3 = await startEmbeddedS3({ bucket });
process.send?.({ endpoint: s3.endpoint, listingApi: s3.listingApi });
process.once("disconnect", () => {
  void s3.close().then(() => process.exit(0));
});
