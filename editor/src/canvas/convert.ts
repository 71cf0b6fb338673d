// Scenario document <-> React Flow nodes and edges. Pure functions: the
// document stays the one source of truth; React Flow's state is derived.
import type { Edge, Node } from "@xyflow/react";
import { componentTitle, nodeExits, type ComponentInfo, type NodeDoc, type ScenarioDocument } from "./model";

export type Decoration = { className?: string; badge?: string; title?: string };
export type EdgeDecoration = { className?: string; label?: string };
/**
 * Extra looks laid over the drawing without changing the document:
 * `nodes` by node id, `edges` by "sourceId:exitName".
 */
export type Decorations = {
  nodes?: Record<string, Decoration>;
  edges?: Record<string, EdgeDecoration>;
};

export type FlowNodeData = {
  doc: NodeDoc;
  typeTitle: string;
  icon: string;
  category: string;
  exits: string[];
  known: boolean;
  decoration?: Decoration;
  [key: string]: unknown;
};
export type FlowNode = Node<FlowNodeData, "scenarioNode">;
export type FlowEdge = Edge<{ exit: string }>;

export const NODE_WIDTH = 210;
const HEADER_HEIGHT = 46;
const EXIT_ROW = 20;

/** The size a node is drawn at (the layout needs it before the DOM exists). */
export function nodeSize(exitCount: number): { width: number; height: number } {
  return { width: NODE_WIDTH, height: HEADER_HEIGHT + Math.max(1, exitCount) * EXIT_ROW + 8 };
}

export function edgeId(source: string, exit: string): string {
  return `${source}:${exit}`;
}

export function docToFlow(
  doc: ScenarioDocument,
  components: Map<string, ComponentInfo>,
  lang: "ru" | "en",
  decorations?: Decorations,
): { nodes: FlowNode[]; edges: FlowEdge[] } {
  const ids = new Set(doc.nodes.map((n) => n.id));
  const nodes: FlowNode[] = doc.nodes.map((n) => {
    const component = components.get(n.type);
    const exits = nodeExits(n, component);
    const decoration = decorations?.nodes?.[n.id];
    return {
      id: n.id,
      type: "scenarioNode",
      position: { x: Number(n.ui?.x ?? 0), y: Number(n.ui?.y ?? 0) },
      className: decoration?.className,
      data: {
        doc: n,
        typeTitle: componentTitle(component, lang, n.type),
        icon: component?.icon ?? n.type,
        category: component?.category ?? "",
        exits,
        known: component !== undefined,
        decoration,
      },
      ...nodeSize(exits.length),
    };
  });
  const edges: FlowEdge[] = [];
  for (const n of doc.nodes) {
    for (const [exit, target] of Object.entries(n.exits ?? {})) {
      if (!ids.has(target)) continue; // a dangling exit: the validator names it
      const id = edgeId(n.id, exit);
      const decoration = decorations?.edges?.[id];
      edges.push({
        id,
        source: n.id,
        sourceHandle: exit,
        target,
        targetHandle: "in",
        label: decoration?.label ?? exit,
        className: [exit === "error" ? "edge-error-exit" : "", decoration?.className ?? ""].join(" ").trim() || undefined,
        data: { exit },
      });
    }
  }
  return { nodes, edges };
}

/** The components as a lookup by type. */
export function componentMap(components: ComponentInfo[] | undefined): Map<string, ComponentInfo> {
  return new Map((components ?? []).map((c) => [c.type, c]));
}
