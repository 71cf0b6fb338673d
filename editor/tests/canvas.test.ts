import { describe, expect, it } from "vitest";
import { componentMap, docToFlow, edgeId } from "../src/canvas/convert";
import { elkGraph, needsLayout } from "../src/canvas/layout";
import { declaredExits, nodeExits, type ComponentInfo, type ScenarioDocument } from "../src/canvas/model";
import { connect, disconnect, moveNodes, pasteNodes, removeNodes, renameNode } from "../src/canvas/ops";

function component(type: string, exits: string[], extra: Partial<ComponentInfo> = {}): ComponentInfo {
  return {
    type, title_en: type.toUpperCase(), title_ru: `ru-${type}`, description: "", category: "flow", icon: type,
    exits, optional_exits: [], exits_from_params: false, exit_rule: null, terminal: false,
    waits_for_caller: false, params_schema: { properties: {} }, ...extra,
  };
}

const COMPONENTS = componentMap([
  component("start", ["next"]),
  component("say", ["next"]),
  component("hangup", [], { terminal: true }),
  component("menu", ["other"], {
    exits_from_params: true,
    exit_rule: { list_field: "cases", item_key: "exit", after: ["other"], when_empty: ["other"], switch_field: null, by_value: {} },
  }),
  component("subscenario", ["next"], {
    exits_from_params: true,
    params_schema: { properties: { mode: { default: "call" } } },
    exit_rule: { list_field: null, item_key: null, after: [], when_empty: [], switch_field: "mode", by_value: { call: ["next"], jump: [] } },
  }),
]);

const DOC: ScenarioDocument = {
  schema: 1,
  id: "t",
  nodes: [
    { id: "start", type: "start", exits: { next: "menu" }, ui: { x: 0, y: 0 } },
    { id: "menu", type: "menu", params: { value: "X", cases: [{ equals: "1", exit: "a" }, { equals: "2", exit: "b" }, { equals: "3", exit: "a" }] },
      exits: { a: "bye", other: "bye", gone: "nowhere" }, ui: { x: 200, y: 0 } },
    { id: "bye", type: "hangup", ui: { x: 400, y: 0 } },
  ],
};

describe("exits", () => {
  it("takes a menu's exits from its cases, once each, then other", () => {
    expect(declaredExits(DOC.nodes[1], COMPONENTS.get("menu"))).toEqual(["a", "b", "other"]);
  });
  it("keeps wired exits the type does not declare and adds error", () => {
    expect(nodeExits(DOC.nodes[1], COMPONENTS.get("menu"))).toEqual(["a", "b", "other", "gone", "error"]);
  });
  it("gives a terminal node no handles", () => {
    expect(nodeExits(DOC.nodes[2], COMPONENTS.get("hangup"))).toEqual([]);
  });
  it("follows a switch field, with its default", () => {
    const sub = COMPONENTS.get("subscenario");
    expect(declaredExits({ id: "s", type: "subscenario", params: {} }, sub)).toEqual(["next"]);
    expect(declaredExits({ id: "s", type: "subscenario", params: { mode: "jump" } }, sub)).toEqual([]);
  });
});

describe("document to React Flow", () => {
  it("makes one edge per wired exit, labelled, skipping dangling targets", () => {
    const { nodes, edges } = docToFlow(DOC, COMPONENTS, "en");
    expect(nodes.map((n) => n.id)).toEqual(["start", "menu", "bye"]);
    expect(edges.map((e) => [e.id, e.sourceHandle, e.target, e.label])).toEqual([
      ["start:next", "next", "menu", "next"],
      ["menu:a", "a", "bye", "a"],
      ["menu:other", "other", "bye", "other"],
    ]);
    expect(nodes[1].data.typeTitle).toBe("MENU");
    expect(docToFlow(DOC, COMPONENTS, "ru").nodes[1].data.typeTitle).toBe("ru-menu");
  });
  it("lays decorations over nodes and edges", () => {
    const { nodes, edges } = docToFlow(DOC, COMPONENTS, "en", {
      nodes: { menu: { className: "hot", badge: "7" } },
      edges: { [edgeId("menu", "a")]: { className: "taken", label: "a · 7" } },
    });
    expect(nodes[1].className).toBe("hot");
    expect(nodes[1].data.decoration?.badge).toBe("7");
    const a = edges.find((e) => e.id === "menu:a")!;
    expect([a.className, a.label]).toEqual(["taken", "a · 7"]);
  });
});

describe("edits", () => {
  it("connects, replaces and disconnects an exit without touching the original", () => {
    const one = connect(DOC, "menu", "b", "start");
    expect(one.nodes[1].exits?.b).toBe("start");
    expect(DOC.nodes[1].exits?.b).toBeUndefined();
    expect(disconnect(one, "menu", "b").nodes[1].exits?.b).toBeUndefined();
  });
  it("removes nodes with the exits that led to them", () => {
    const after = removeNodes(DOC, ["bye"]);
    expect(after.nodes.map((n) => n.id)).toEqual(["start", "menu"]);
    expect(after.nodes[1].exits).toEqual({ gone: "nowhere" });
  });
  it("moves nodes to rounded positions", () => {
    expect(moveNodes(DOC, { bye: { x: 10.6, y: 3.2 } }).nodes[2].ui).toEqual({ x: 11, y: 3 });
  });
  it("renames a node and the exits to it, refusing a taken id", () => {
    const after = renameNode(DOC, "bye", "goodbye");
    expect(after.nodes[2].id).toBe("goodbye");
    expect(after.nodes[1].exits?.a).toBe("goodbye");
    expect(renameNode(DOC, "bye", "menu")).toBe(DOC);
  });
  it("pastes with fresh ids, inner exits remapped and outer ones dropped", () => {
    const { doc, ids } = pasteNodes(DOC, [DOC.nodes[1], DOC.nodes[2]], { x: 40, y: 40 });
    expect(ids).toEqual(["menu_2", "bye_2"]);
    const menu2 = doc.nodes.find((n) => n.id === "menu_2")!;
    expect(menu2.exits).toEqual({ a: "bye_2", other: "bye_2" });
    expect(menu2.ui).toEqual({ x: 240, y: 40 });
    expect(doc.nodes).toHaveLength(5);
  });
});

describe("layout input", () => {
  it("gives ELK one east port per exit in order and an edge per wired exit", () => {
    const graph = elkGraph(DOC, COMPONENTS);
    const menu = graph.children.find((c) => c.id === "menu")!;
    expect(menu.ports.map((p) => p.id)).toEqual(["menu:in", "menu::a", "menu::b", "menu::other", "menu::gone", "menu::error"]);
    expect(menu.ports[3].layoutOptions["elk.port.index"]).toBe("2");
    expect(graph.edges.map((e) => [e.sources[0], e.targets[0]])).toEqual([
      ["start::next", "menu:in"], ["menu::a", "bye:in"], ["menu::other", "bye:in"],
    ]);
    expect(menu.height).toBeGreaterThan(graph.children.find((c) => c.id === "bye")!.height);
  });
  it("lays out only a document whose nodes have no positions", () => {
    expect(needsLayout(DOC)).toBe(false);
    expect(needsLayout({ ...DOC, nodes: DOC.nodes.map((n) => ({ ...n, ui: undefined })) })).toBe(true);
  });
});

describe("crowded drawings", () => {
  it("tells overlapping boxes from a spread-out drawing", async () => {
    const { crowded } = await import("../src/canvas/layout");
    const at = (x: number, y: number) => ({ x, y });
    const doc = (points: { x: number; y: number }[]): ScenarioDocument => ({
      schema: 1, id: "c", nodes: points.map((ui, i) => ({ id: `n${i}`, type: "say", ui })),
    });
    expect(crowded(doc([at(0, 0), at(100, 0), at(200, 0)]), COMPONENTS)).toBe(true);
    expect(crowded(doc([at(0, 0), at(300, 0), at(600, 0)]), COMPONENTS)).toBe(false);
  });
});
