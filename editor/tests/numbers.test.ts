import { describe, expect, it } from "vitest";
import { formatRules, parseRules, RuleSyntaxError } from "../src/pages/numbers/rules";

describe("normalisation rules in a text box", () => {
  it("shows pattern rules as written and regex rules as JSON", () => {
    const text = formatRules([{ match: "8XXXXXXXXXX", to: "+7XXXXXXXXXX" }, { regex: "(\\d+)", to: "+\\1" }]);
    expect(text).toBe('8XXXXXXXXXX -> +7XXXXXXXXXX\n{"regex":"(\\\\d+)","to":"+\\\\1"}');
  });
  it("reads them back, skipping blank lines and comments", () => {
    const rules = parseRules('99. -> .\n\n# national\n{"regex": "(\\\\d+)", "to": "+\\\\1"}\n');
    expect(rules).toEqual(["99. -> .", { regex: "(\\d+)", to: "+\\1" }]);
  });
  it("names the line of a broken JSON rule", () => {
    expect(() => parseRules('99. -> .\n{"regex": ')).toThrow(RuleSyntaxError);
    expect(() => parseRules('99. -> .\n{"regex": ')).toThrow(/line 2/);
  });
});
