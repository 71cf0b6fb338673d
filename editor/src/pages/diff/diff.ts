// Two versions of a scenario on one canvas: the data side of the visual
// diff. The API's comparison (GET .../compare) says what was added, removed
// and changed; these pure functions draw it: one document holding both
// versions (the newer one plus what it removed), decorations colouring
// nodes and edges, and the changed params listed path by path.
import type { Decorations } from "../../canvas/FlowCanvas";
import type { NodeDoc, ScenarioDocument } from "../../canvas/model";
import type { Schemas } from "../../api/client";

export type Comparison = Schemas["Comparison"];
export type ParamChange = { path: string; before: unknown; after: unknown };
export type NodeDiff = { nodeId: string; kind: "added" | "removed" | "changed"; fields: string[]; params: ParamChange[] };

const edge = (node: string, exit: string) => `${node}:${exit}`;

/** The newer version with the nodes and exits it removed put back, so both can be drawn at once. */
export function mergeForDiff(older: ScenarioDocument, newer: ScenarioDocument, cmp: Comparison): ScenarioDocument {
  const oldNodes = new Map(older.nodes.map((n) => [n.id, n]));
  const removed = new Set(cmp.nodes_removed);
  const nodes: NodeDoc[] = newer.nodes.map((n) => ({ ...n, exits: { ...(n.exits ?? {}) } }));
  const byId = new Map(nodes.map((n) => [n.id, n]));
  for (const id of cmp.nodes_removed) {
    const n = oldNodes.get(id);
    if (n) {
      const copy = { ...n, exits: { ...(n.exits ?? {}) } };
      nodes.push(copy);
      byId.set(id, copy);
    }
  }
  // an exit a surviving node lost is drawn to where it used to go
  for (const x of cmp.exits_removed) {
    if (removed.has(x.node_id)) continue;
    const n = byId.get(x.node_id);
    if (n && typeof x.to === "string" && !(x.exit in (n.exits ?? {}))) n.exits = { ...n.exits, [x.exit]: x.to };
  }
  return { ...newer, nodes };
}

export function diffDecorations(cmp: Comparison, labels: { was: string } = { was: "was" }): Decorations {
  const nodes: NonNullable<Decorations["nodes"]> = {};
  const edges: NonNullable<Decorations["edges"]> = {};
  for (const id of cmp.nodes_added) nodes[id] = { className: "diff-added", badge: "+" };
  for (const id of cmp.nodes_removed) nodes[id] = { className: "diff-removed", badge: "−" };
  for (const c of cmp.nodes_changed) nodes[c.node_id] = { className: "diff-changed", badge: "~", title: c.fields.join(", ") };
  for (const x of cmp.exits_added) edges[edge(x.node_id, x.exit)] = { className: "diff-added" };
  for (const x of cmp.exits_removed) edges[edge(x.node_id, x.exit)] = { className: "diff-removed" };
  for (const x of cmp.exits_changed) {
    edges[edge(x.node_id, x.exit)] = { className: "diff-changed", label: `${x.exit} (${labels.was} → ${String(x.from)})` };
  }
  return { nodes, edges };
}

/** Every leaf that differs between two params objects, as `params.cases[1].equals`. */
export function paramChanges(before: unknown, after: unknown, path = "params"): ParamChange[] {
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
  if (Array.isArray(before) && Array.isArray(after)) {
    const out: ParamChange[] = [];
    for (let i = 0; i < Math.max(before.length, after.length); i++) {
      out.push(...paramChanges(before[i], after[i], `${path}[${i}]`));
    }
    return out;
  }
  if (isObj(before) && isObj(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => paramChanges(before[k], after[k], `${path}.${k}`));
  }
  return [{ path, before, after }];
}

/** The nodes that differ, each with its changed fields and params, in the newer version's order. */
export function nodeDiffs(older: ScenarioDocument, newer: ScenarioDocument, cmp: Comparison): NodeDiff[] {
  const a = new Map(older.nodes.map((n) => [n.id, n]));
  const b = new Map(newer.nodes.map((n) => [n.id, n]));
  const out: NodeDiff[] = [];
  for (const id of cmp.nodes_added) out.push({ nodeId: id, kind: "added", fields: [], params: paramChanges(undefined, b.get(id)?.params ?? {}) });
  for (const c of cmp.nodes_changed) {
    const before = a.get(c.node_id);
    const after = b.get(c.node_id);
    const params: ParamChange[] = [];
    for (const field of c.fields) {
      const x = (before as Record<string, unknown> | undefined)?.[field];
      const y = (after as Record<string, unknown> | undefined)?.[field];
      params.push(...paramChanges(x, y, field));
    }
    out.push({ nodeId: c.node_id, kind: "changed", fields: c.fields, params });
  }
  for (const id of cmp.nodes_removed) out.push({ nodeId: id, kind: "removed", fields: [], params: [] });
  return out;
}

export function show(value: unknown): string {
  if (value === undefined) return "∅";
  return typeof value === "string" ? value : JSON.stringify(value);
}
