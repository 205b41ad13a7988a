import { describe, expect, it } from "vitest";
import { routeOf } from "./router.tsx";

describe("the console's routes", () => {
  it("reads each page from its path under /console", () => {
    expect(routeOf("/console/")).toEqual({ page: "calls" });
    expect(routeOf("/console/calls")).toEqual({ page: "calls" });
    expect(routeOf("/console/calls/0b3c8f9e-1111-4222-8333-944445555666")).toEqual({ page: "call", id: "0b3c8f9e-1111-4222-8333-944445555666" });
    expect(routeOf("/console/dials/abc")).toEqual({ page: "dial", id: "abc" });
    expect(routeOf("/console/operations")).toEqual({ page: "operations", section: "overview" });
    expect(routeOf("/console/operations/dead-letters")).toEqual({ page: "operations", section: "dead-letters" });
    expect(routeOf("/console/operations/everything")).toEqual({ page: "not-found" });
    expect(routeOf("/console/calls/a/b")).toEqual({ page: "not-found" });
  });
});
