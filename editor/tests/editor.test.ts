import { describe, expect, it } from "vitest";
import type { ScenarioDocument } from "../src/canvas/model";
import { suggestions, wordAt } from "../src/pages/scenarios/editor/ExpressionInput";
import { findingDecorations, findingTarget, type Finding } from "../src/pages/scenarios/editor/findings";
import { push, redo, start, undo } from "../src/pages/scenarios/editor/history";
import { simplifySchema, stripEmpty, uiSchemaFor } from "../src/pages/scenarios/editor/schemaForm";
import { scenariosInFile } from "../src/pages/scenarios/ScenarioList";

describe("undo stack", () => {
  it("undoes and redoes in order, and a new edit drops the redo branch", () => {
    let h = start("a");
    h = push(h, "b", undefined, 0);
    h = push(h, "c", undefined, 10);
    h = undo(h);
    expect(h.present).toBe("b");
    h = undo(h);
    expect(h.present).toBe("a");
    expect(undo(h)).toBe(h);
    h = redo(h);
    expect(h.present).toBe("b");
    h = push(h, "x", undefined, 20);
    expect(h.future).toEqual([]);
    expect(redo(h)).toBe(h);
    expect(undo(h).present).toBe("b");
  });
  it("makes quick edits of one field a single step, but not slow ones", () => {
    let h = start("");
    h = push(h, "H", "title", 0);
    h = push(h, "He", "title", 200);
    h = push(h, "Hey", "title", 400);
    expect(undo(h).present).toBe("");
    h = push(h, "Hey!", "title", 5000);
    expect(undo(h).present).toBe("Hey");
    h = push(h, "other", "name", 5100);
    expect(undo(h).present).toBe("Hey!");
  });
  it("ignores a push of the same document", () => {
    const h = start("a");
    expect(push(h, "a")).toBe(h);
  });
});

const DOC: ScenarioDocument = {
  schema: 1,
  id: "t",
  nodes: [
    { id: "start", type: "start", exits: { next: "menu" } },
    { id: "menu", type: "menu", exits: { a: "start" } },
  ],
};

function finding(partial: Partial<Finding>): Finding {
  return { severity: "error", code: "x", path: null, node_id: null, line: null, column: null, message: "m", ...partial };
}

describe("findings on the drawing", () => {
  it("finds the node by id or JSON path, and the edge of a wired exit", () => {
    expect(findingTarget(finding({ path: "nodes[1].exits.a" }), DOC)).toEqual({ node: "menu", edge: "menu:a" });
    expect(findingTarget(finding({ path: "nodes[1].exits.b", node_id: "menu" }), DOC)).toEqual({ node: "menu", edge: undefined });
    expect(findingTarget(finding({ path: "nodes[0].params.x" }), DOC)).toEqual({ node: "start", edge: undefined });
    expect(findingTarget(finding({ path: "variables[0]" }), DOC)).toEqual({});
  });
  it("marks nodes with errors over warnings, counting them, and their edges", () => {
    const d = findingDecorations(
      [
        finding({ node_id: "menu", severity: "warning", message: "w" }),
        finding({ path: "nodes[1].exits.a", message: "e" }),
        finding({ node_id: "start", severity: "warning", message: "only a warning" }),
      ],
      DOC,
    );
    expect(d.nodes?.menu).toEqual({ className: "has-error", badge: "✖ 2", title: "w\ne" });
    expect(d.nodes?.start?.className).toBe("has-warning");
    expect(d.edges?.["menu:a"]).toEqual({ className: "has-error" });
  });
});

describe("params forms from JSON Schema", () => {
  it("turns 'X or null' into X and scalar unions into text, dropping null defaults", () => {
    const s = simplifySchema({
      type: "object",
      properties: {
        language: { anyOf: [{ type: "string" }, { type: "null" }], default: null, title: "Language" },
        equals: { anyOf: [{ type: "string" }, { type: "integer" }, { type: "number" }, { type: "null" }], default: null },
        range: { anyOf: [{ type: "array", prefixItems: [{ type: "number" }, { type: "number" }] }, { type: "null" }] },
        mode: { enum: ["call", "jump"], default: "call" },
      },
    }) as { properties: Record<string, Record<string, unknown>> };
    expect(s.properties.language).toEqual({ type: "string", title: "Language", description: undefined });
    expect(s.properties.equals).toEqual({ type: "string" });
    expect(s.properties.range).toMatchObject({ type: "array", items: { type: "number" }, minItems: 2, maxItems: 2 });
    expect(s.properties.mode).toEqual({ enum: ["call", "jump"], default: "call" });
  });
  it("shows defaults as placeholders, in nested lists too", () => {
    const ui = uiSchemaFor({
      properties: { retries: { type: "integer", default: 2 }, cases: { type: "array", items: { $ref: "#/$defs/Case" } } },
      $defs: { Case: { properties: { exit: { type: "string", default: "x" } } } },
    });
    expect(ui.retries).toEqual({ "ui:placeholder": "2" });
    expect(ui.cases).toMatchObject({ items: { exit: { "ui:placeholder": "x" } } });
  });
  it("drops emptied fields so no null reaches the document", () => {
    expect(stripEmpty({ a: 1, b: null, c: undefined, d: [{ e: null, f: "" }] })).toEqual({ a: 1, d: [{ f: "" }] });
  });
});

describe("expression completion", () => {
  it("finds the word before the caret, in any alphabet", () => {
    expect(wordAt("len(CAL", 7)).toEqual({ start: 4, word: "CAL" });
    expect(wordAt("ВЫБОР = 1", 5)).toEqual({ start: 0, word: "ВЫБОР" });
    expect(wordAt("1 + ", 4)).toBeNull();
  });
  it("offers variables then functions that start with it", () => {
    const names = { variables: ["CALLEDID", "CHOICE"], functions: ["calledid", "callerid", "len"] };
    expect(suggestions("cal", names).map((s) => s.name)).toEqual(["CALLEDID", "calledid", "callerid"]);
    expect(suggestions("CHOICE", names)).toEqual([]);
  });
});

describe("import files", () => {
  it("reads one document, a list, or an export bundle", () => {
    expect(scenariosInFile({ id: "a" })).toEqual([{ id: "a" }]);
    expect(scenariosInFile([{ id: "a" }, { id: "b" }])).toHaveLength(2);
    expect(scenariosInFile({ format: "flowengine-bundle", scenarios: [{ id: "c" }] })).toEqual([{ id: "c" }]);
  });
});

describe("form titles in the UI language", () => {
  it("takes title_ru for Russian and leaves English and defaults alone", async () => {
    const { localiseSchema } = await import("../src/pages/scenarios/editor/schemaForm");
    const schema = {
      properties: {
        text: { title: "Text", title_ru: "Текст", type: "string" },
        voice: { title: "Voice", type: "string", default: { title_ru: "not a schema" } },
      },
    };
    const ru = localiseSchema(schema, "ru") as { properties: Record<string, { title: string; default?: unknown }> };
    expect(ru.properties.text.title).toBe("Текст");
    expect(ru.properties.voice.title).toBe("Voice");
    expect(ru.properties.voice.default).toEqual({ title_ru: "not a schema" });
    expect(localiseSchema(schema, "en")).toBe(schema);
  });
});
