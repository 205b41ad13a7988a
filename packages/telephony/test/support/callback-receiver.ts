import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedCallback {
  /** The full URL as the sender addressed it: what Twilio signs. */
  url: string;
  signature: string | undefined;
  contentType: string | undefined;
  params: Record<string, string>;
  at: number;
}

/** A local HTTP endpoint standing in for ingest's webhook route: keeps every POST, answers empty TwiML. */
export async function startCallbackReceiver(): Promise<{ url: string; received: ReceivedCallback[]; close(): Promise<void> }> {
  const received: ReceivedCallback[] = [];
  let base = "";
  const server = createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8").on("data", (text: string) => (body += text));
    request.on("end", () => {
      received.push({
        url: `${base}${request.url ?? "/"}`,
        signature: request.headers["x-twilio-signature"] as string | undefined,
        contentType: request.headers["content-type"],
        params: Object.fromEntries(new URLSearchParams(body)),
        at: Date.now(),
      });
      response.writeHead(200, { "content-type": "text/xml" }).end("<Response/>");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
