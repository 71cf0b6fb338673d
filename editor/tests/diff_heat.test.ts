import { describe, expect, it } from "vitest";
import type { ScenarioDocument } from "../src/canvas/model";
import { diffDecorations, mergeForDiff, nodeDiffs, paramChanges, type Comparison } from "../src/pages/diff/diff";
import { heatDecorations, heatLevel, sumHeat, type PathsRow } from "../src/pages/heatmap/heat";

const v1: ScenarioDocument = {
  schema: 1, id: "ivr",
  nodes: [
    { id: "start", type: "start", exits: { next: "menu" } },
    { id: "menu", type: "menu", params: { value: "X", cases: [{ equals: "1", exit: "a" }] }, exits: { a: "old", other: "bye" } },
    { id: "old", type: "say", params: { text: "old" }, exits: { next: "bye" } },
    { id: "bye", type: "hangup" },
  ],
};
const v2: ScenarioDocument = {
  schema: 1, id: "ivr",
  nodes: [
    { id: "start", type: "start", exits: { next: "menu" } },
    { id: "menu", type: "menu", params: { value: "X", cases: [{ equals: "2", exit: "a" }] }, exits: { a: "new" } },
    { id: "new", type: "say", params: { text: "new" }, exits: { next: "bye" } },
    { id: "bye", type: "hangup" },
  ],
};
// what GET .../compare answers for v1 -> v2
const cmp: Comparison = {
  scenario_id: "ivr", from_version: 1, to_version: 2,
  nodes_added: ["new"], nodes_removed: ["old"], nodes_changed: [{ node_id: "menu", fields: ["params"] }], nodes_moved: [],
  exits_added: [{ node_id: "new", exit: "next", to: "bye" }],
  exits_removed: [{ node_id: "menu", exit: "other", to: "bye" }, { node_id: "old", exit: "next", to: "bye" }],
  exits_changed: [{ node_id: "menu", exit: "a", from: "old", to: "new" }],
  fields_changed: [],
};

describe("version diff", () => {
  it("draws both versions at once: the newer plus the removed nodes and exits", () => {
    const merged = mergeForDiff(v1, v2, cmp);
    expect(merged.nodes.map((n) => n.id)).toEqual(["start", "menu", "new", "bye", "old"]);
    expect(merged.nodes.find((n) => n.id === "menu")?.exits).toEqual({ a: "new", other: "bye" });
    expect(v2.nodes[1].exits).toEqual({ a: "new" }); // the versions themselves are untouched
  });
  it("colours nodes and edges by what happened to them", () => {
    const d = diffDecorations(cmp);
    expect(d.nodes?.new.className).toBe("diff-added");
    expect(d.nodes?.old.className).toBe("diff-removed");
    expect(d.nodes?.menu.className).toBe("diff-changed");
    expect(d.nodes?.start).toBeUndefined();
    expect(d.edges?.["menu:other"].className).toBe("diff-removed");
    expect(d.edges?.["new:next"].className).toBe("diff-added");
    expect(d.edges?.["menu:a"]).toEqual({ className: "diff-changed", label: "a (was → old)" });
  });
  it("lists changed params leaf by leaf", () => {
    expect(paramChanges({ cases: [{ equals: "1", exit: "a" }], value: "X" }, { cases: [{ equals: "2", exit: "a" }], value: "X" }))
      .toEqual([{ path: "params.cases[0].equals", before: "1", after: "2" }]);
    expect(paramChanges({ a: 1 }, { a: 1, b: [1] })).toEqual([{ path: "params.b", before: undefined, after: [1] }]);
    const diffs = nodeDiffs(v1, v2, cmp);
    expect(diffs.map((n) => [n.nodeId, n.kind])).toEqual([["new", "added"], ["menu", "changed"], ["old", "removed"]]);
    expect(diffs[1].params).toEqual([{ path: "params.cases[0].equals", before: "1", after: "2" }]);
  });
});

describe("heat scale", () => {
  it("puts nothing at 0, the first call at 1 and the busiest at the top", () => {
    expect(heatLevel(0, 10)).toBe(0);
    expect(heatLevel(1, 1000)).toBe(1);
    expect(heatLevel(5, 10)).toBe(3);
    expect(heatLevel(10, 10)).toBe(5);
    expect(heatLevel(3, 0)).toBe(0);
  });
  const rows: PathsRow[] = [
    { scenario: "ivr", version: 1, node: "menu", entered: 4, exits: { a: 3, other: 1 }, caller_hangups: 0 },
    { scenario: "ivr", version: 2, node: "menu", entered: 6, exits: { a: 5 }, caller_hangups: 1 },
    { scenario: "ivr", version: 2, node: "new", entered: 5, exits: { next: 5 }, caller_hangups: 0 },
    { scenario: "other", version: 1, node: "menu", entered: 100, exits: {}, caller_hangups: 0 },
  ];
  const labels = { calls: (n: number) => `${n} calls`, hangups: (n: number) => `${n} hung up`, ended: (n: number) => `${n} ended` };
  it("marks calls that ended in a node other than by a hang-up, except where calls are meant to end", () => {
    const ends: PathsRow[] = [
      { scenario: "ivr", version: 1, node: "xfer", entered: 4, exits: { error: 1 }, caller_hangups: 1 },
      { scenario: "ivr", version: 1, node: "bye", entered: 6, exits: {}, caller_hangups: 0 },
    ];
    const d = heatDecorations(sumHeat(ends, "ivr", null), labels, new Set(["bye"]));
    expect(d.nodes?.xfer).toEqual({ className: "heat-4 heat-hangups heat-ended", badge: "4 · ☎ 1 · ⚠ 2", title: "4 calls · 1 hung up · 2 ended" });
    expect(d.nodes?.bye).toEqual({ className: "heat-5", badge: "6", title: "6 calls" });
  });
  it("sums a scenario's versions per node, or takes one", () => {
    const all = sumHeat(rows, "ivr", null);
    expect(all.get("menu")).toEqual({ node: "menu", entered: 10, exits: { a: 8, other: 1 }, hangups: 1 });
    expect(sumHeat(rows, "ivr", 1).get("new")).toBeUndefined();
  });
  it("decorates nodes with counts and hangups, edges with their exit's count", () => {
    const d = heatDecorations(sumHeat(rows, "ivr", 2), labels);
    expect(d.nodes?.menu).toEqual({ className: "heat-5 heat-hangups", badge: "6 · ☎ 1", title: "6 calls · 1 hung up" });
    expect(d.nodes?.new.className).toBe("heat-5");
    expect(d.edges?.["menu:a"]).toEqual({ className: "heat-edge-5", label: "a · 5" });
    expect(d.edges?.["menu:other"]).toBeUndefined();
  });
});
