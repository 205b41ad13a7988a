import { describe, expect, it } from "vitest";
import { markerFromUrl, withMarker } from "./call-marker.ts";
import { redirectToApiBase } from "./twilio-http.ts";

describe("the call marker in callback URLs", () => {
  it("is added to the query beside what the URL already carries, and read back", () => {
    const url = withMarker("https://callflow.example/v1/webhooks/twilio?tenant=t1", { dialId: "0b5e7c1e-dial", attempt: 3 });
    expect(url).toBe("https://callflow.example/v1/webhooks/twilio?tenant=t1&dial=0b5e7c1e-dial&attempt=3");
    expect(markerFromUrl(url)).toEqual({ dialId: "0b5e7c1e-dial", attempt: 3 });
  });

  it("is absent from URLs without one or with a malformed attempt", () => {
    expect(markerFromUrl("https://callflow.example/v1/webhooks/twilio")).toBeUndefined();
    expect(markerFromUrl("https://callflow.example/x?dial=d&attempt=two")).toBeUndefined();
    expect(markerFromUrl("not a url")).toBeUndefined();
  });
});

describe("redirectToApiBase", () => {
  it("moves Twilio API URLs, regional and edge hosts included, onto a configured base with its path", () => {
    const base = "http://127.0.0.1:9000/twilio";
    expect(redirectToApiBase("https://api.twilio.com/2010-04-01/Accounts/AC1/Calls.json?To=%2B1", base)).toBe("http://127.0.0.1:9000/twilio/2010-04-01/Accounts/AC1/Calls.json?To=%2B1");
    expect(redirectToApiBase("https://api.sydney.au1.twilio.com/2010-04-01/Accounts/AC1/Calls.json", base)).toBe("http://127.0.0.1:9000/twilio/2010-04-01/Accounts/AC1/Calls.json");
    expect(redirectToApiBase("https://example.com/recording", base)).toBe("https://example.com/recording");
  });

  it("leaves URLs alone when the base is Twilio's own", () => {
    expect(redirectToApiBase("https://api.sydney.au1.twilio.com/x", "https://api.twilio.com")).toBe("https://api.sydney.au1.twilio.com/x");
  });
});
