import { describe, expect, it } from "vitest";
import { format } from "../src/i18n";
import { parseHash } from "../src/shell/router";

describe("hash routes", () => {
  it("splits page, path and query", () => {
    const route = parseHash("#/scenarios/per%20number/diff?from=1&to=3");
    expect(route.page).toBe("scenarios");
    expect(route.rest).toEqual(["per number", "diff"]);
    expect(route.query.get("to")).toBe("3");
  });
  it("an empty hash is the start page", () => {
    expect(parseHash("").page).toBe("");
  });
});

describe("strings", () => {
  it("fills named parameters and leaves unknown ones", () => {
    expect(format("{n} calls, {x}", { n: 3 })).toBe("3 calls, {x}");
  });
});
