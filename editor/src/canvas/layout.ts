// Auto-layout with ELK (layered, left to right). The input is built by a
// pure function (tested); elkjs itself is loaded only when first used.
import { nodeExits, type ComponentInfo, type ScenarioDocument } from "./model";
import { nodeSize } from "./convert";

export type ElkPort = { id: string; layoutOptions: Record<string, string> };
export type ElkNode = {
  id: string;
  width: number;
  height: number;
  ports: ElkPort[];
  layoutOptions: Record<string, string>;
  x?: number;
  y?: number;
};
export type ElkEdge = { id: string; sources: string[]; targets: string[] };
export type ElkGraph = { id: string; layoutOptions: Record<string, string>; children: ElkNode[]; edges: ElkEdge[] };

export const LAYOUT_OPTIONS: Record<string, string> = {
  "elk.algorithm": "layered",
  "elk.direction": "RIGHT",
  "elk.layered.spacing.nodeNodeBetweenLayers": "70",
  "elk.spacing.nodeNode": "28",
  "elk.layered.nodePlacement.strategy": "BRANDES_KOEPF",
  "elk.layered.crossingMinimization.strategy": "LAYER_SWEEP",
  // fewer sweeps, and no orthogonal edge routing (React Flow draws its own
  // edges): a 200-node scenario lays out in ~0.2 s instead of 1-4 s
  "elk.layered.thoroughness": "3",
  "elk.edgeRouting": "POLYLINE",
};

/** ELK's graph for a document: one port per exit (in order, on the east side), one in-port. */
export function elkGraph(doc: ScenarioDocument, components: Map<string, ComponentInfo>): ElkGraph {
  const ids = new Set(doc.nodes.map((n) => n.id));
  const children: ElkNode[] = doc.nodes.map((n) => {
    const exits = nodeExits(n, components.get(n.type));
    const size = nodeSize(exits.length);
    return {
      id: n.id,
      ...size,
      layoutOptions: { "elk.portConstraints": "FIXED_ORDER" },
      ports: [
        { id: `${n.id}:in`, layoutOptions: { "elk.port.side": "WEST", "elk.port.index": "0" } },
        ...exits.map((exit, i) => ({
          id: `${n.id}::${exit}`,
          layoutOptions: { "elk.port.side": "EAST", "elk.port.index": String(i) },
        })),
      ],
    };
  });
  const edges: ElkEdge[] = [];
  for (const n of doc.nodes) {
    const exits = new Set(nodeExits(n, components.get(n.type)));
    for (const [exit, target] of Object.entries(n.exits ?? {})) {
      if (!ids.has(target) || !exits.has(exit)) continue;
      edges.push({ id: `${n.id}:${exit}`, sources: [`${n.id}::${exit}`], targets: [`${target}:in`] });
    }
  }
  return { id: "root", layoutOptions: LAYOUT_OPTIONS, children, edges };
}

type Elk = { layout: (graph: ElkGraph) => Promise<{ children?: { id: string; x?: number; y?: number }[] }> };
let elkPromise: Promise<Elk> | null = null;

/** Starts loading ELK in the background (an editor that may lay out soon). */
export function preloadLayout(): void {
  // a tiny layout also initialises ELK's code, which the first real one would pay for
  const warm: ElkGraph = {
    id: "warm",
    layoutOptions: LAYOUT_OPTIONS,
    children: ["a", "b"].map((id) => ({ id, width: 10, height: 10, ports: [], layoutOptions: {} })),
    edges: [{ id: "e", sources: ["a"], targets: ["b"] }],
  };
  void loadElk()
    .then((elk) => elk.layout(warm))
    .catch(() => {
      elkPromise = null;
    });
}

function loadElk(): Promise<Elk> {
  elkPromise ??= import("elkjs/lib/elk.bundled.js").then((m) => new (m.default as unknown as new () => Elk)());
  return elkPromise;
}

/** New positions for every node of the document, laid out by ELK. */
export async function autoLayout(
  doc: ScenarioDocument,
  components: Map<string, ComponentInfo>,
): Promise<Record<string, { x: number; y: number }>> {
  const elk = await loadElk();
  const laid = await elk.layout(elkGraph(doc, components));
  const positions: Record<string, { x: number; y: number }> = {};
  for (const child of laid.children ?? []) positions[child.id] = { x: child.x ?? 0, y: child.y ?? 0 };
  return positions;
}

/** True when the document has no usable positions (every node at the origin). */
export function needsLayout(doc: ScenarioDocument): boolean {
  return doc.nodes.length > 1 && doc.nodes.every((n) => !n.ui || (!n.ui.x && !n.ui.y));
}

/** True when many nodes overlap at the size the canvas draws them (a
 * document laid out by hand for smaller boxes, or by another tool). */
export function crowded(doc: ScenarioDocument, components: Map<string, ComponentInfo>, share = 0.2): boolean {
  const boxes = doc.nodes.map((n) => {
    const size = nodeSize(nodeExits(n, components.get(n.type)).length);
    const x = Number(n.ui?.x ?? 0);
    const y = Number(n.ui?.y ?? 0);
    return { x, y, r: x + size.width, b: y + size.height };
  });
  let overlapping = 0;
  for (let i = 0; i < boxes.length; i++) {
    const a = boxes[i];
    for (let j = 0; j < boxes.length; j++) {
      const o = boxes[j];
      if (i !== j && a.x < o.r && o.x < a.r && a.y < o.b && o.y < a.b) {
        overlapping++;
        break;
      }
    }
  }
  return boxes.length > 1 && overlapping / boxes.length > share;
}
