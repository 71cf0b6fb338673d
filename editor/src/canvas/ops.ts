// Edits of a scenario document, each returning a new document (never
// mutating), so the undo stack can keep the old ones as they were.
import { freshId, type NodeDoc, type ScenarioDocument } from "./model";

type Positions = Record<string, { x: number; y: number }>;

function mapNodes(doc: ScenarioDocument, fn: (n: NodeDoc) => NodeDoc): ScenarioDocument {
  return { ...doc, nodes: doc.nodes.map(fn) };
}

export function moveNodes(doc: ScenarioDocument, positions: Positions): ScenarioDocument {
  return mapNodes(doc, (n) => {
    const p = positions[n.id];
    return p ? { ...n, ui: { ...(n.ui ?? {}), x: Math.round(p.x), y: Math.round(p.y) } } : n;
  });
}

export function connect(doc: ScenarioDocument, source: string, exit: string, target: string): ScenarioDocument {
  return mapNodes(doc, (n) => (n.id === source ? { ...n, exits: { ...(n.exits ?? {}), [exit]: target } } : n));
}

export function disconnect(doc: ScenarioDocument, source: string, exit: string): ScenarioDocument {
  return mapNodes(doc, (n) => {
    if (n.id !== source || !n.exits || !(exit in n.exits)) return n;
    const exits = { ...n.exits };
    delete exits[exit];
    return { ...n, exits };
  });
}

/** Removes nodes and every exit that led to them. */
export function removeNodes(doc: ScenarioDocument, ids: Iterable<string>): ScenarioDocument {
  const gone = new Set(ids);
  const nodes = doc.nodes
    .filter((n) => !gone.has(n.id))
    .map((n) => {
      const kept = Object.entries(n.exits ?? {}).filter(([, to]) => !gone.has(to));
      return kept.length === Object.keys(n.exits ?? {}).length ? n : { ...n, exits: Object.fromEntries(kept) };
    });
  return { ...doc, nodes };
}

export function addNode(doc: ScenarioDocument, node: NodeDoc): ScenarioDocument {
  return { ...doc, nodes: [...doc.nodes, node] };
}

export function updateNode(doc: ScenarioDocument, id: string, patch: Partial<NodeDoc>): ScenarioDocument {
  return mapNodes(doc, (n) => (n.id === id ? { ...n, ...patch } : n));
}

/** Renames a node and every exit that leads to it; refuses a taken id. */
export function renameNode(doc: ScenarioDocument, from: string, to: string): ScenarioDocument {
  if (from === to || doc.nodes.some((n) => n.id === to)) return doc;
  return mapNodes(doc, (n) => {
    const exits = Object.fromEntries(Object.entries(n.exits ?? {}).map(([e, t]) => [e, t === from ? to : t]));
    return { ...n, id: n.id === from ? to : n.id, exits };
  });
}

/**
 * Pastes copied nodes: fresh ids where taken, exits between the copied
 * nodes follow the new ids, exits to nodes outside the copy are dropped
 * (the copy may come from another scenario). Returns the new ids too.
 */
export function pasteNodes(
  doc: ScenarioDocument,
  copied: NodeDoc[],
  offset: { x: number; y: number },
): { doc: ScenarioDocument; ids: string[] } {
  const taken = new Set(doc.nodes.map((n) => n.id));
  const renamed = new Map<string, string>();
  for (const n of copied) {
    const id = freshId(n.id, taken);
    taken.add(id);
    renamed.set(n.id, id);
  }
  const pasted = copied.map((n) => ({
    ...structuredClone(n),
    id: renamed.get(n.id)!,
    exits: Object.fromEntries(
      Object.entries(n.exits ?? {})
        .filter(([, to]) => renamed.has(to))
        .map(([e, to]) => [e, renamed.get(to)!]),
    ),
    ui: { ...(n.ui ?? {}), x: Number(n.ui?.x ?? 0) + offset.x, y: Number(n.ui?.y ?? 0) + offset.y },
  }));
  return { doc: { ...doc, nodes: [...doc.nodes, ...pasted] }, ids: pasted.map((n) => n.id) };
}
