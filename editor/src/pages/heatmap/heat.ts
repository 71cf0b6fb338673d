// The heatmap's data side: the paths report's rows (calls per node and exit
// of a scenario version, and callers who hung up at each node) summed over
// the chosen versions and turned into canvas decorations on a heat scale.
// Pure functions, tested with vitest.
import type { Decorations } from "../../canvas/FlowCanvas";

export type PathsRow = {
  scenario: string;
  version: number;
  node: string;
  entered: number;
  exits: Record<string, number>;
  caller_hangups: number;
};

export type NodeHeat = { node: string; entered: number; exits: Record<string, number>; hangups: number };

export const LEVELS = 5;

/** 0 for nothing, else 1..LEVELS by the share of the busiest: a node half as
 * busy as the busiest is a middle colour, the first call is level 1. */
export function heatLevel(count: number, max: number): number {
  if (count <= 0 || max <= 0) return 0;
  return Math.min(LEVELS, Math.max(1, Math.ceil((count / max) * LEVELS)));
}

/** The rows of one scenario, summed per node over `version` (null: every version). */
export function sumHeat(rows: PathsRow[], scenario: string, version: number | null): Map<string, NodeHeat> {
  const out = new Map<string, NodeHeat>();
  for (const r of rows) {
    if (r.scenario !== scenario || (version !== null && r.version !== version)) continue;
    const h = out.get(r.node) ?? { node: r.node, entered: 0, exits: {}, hangups: 0 };
    h.entered += r.entered;
    h.hangups += r.caller_hangups;
    for (const [exit, n] of Object.entries(r.exits)) h.exits[exit] = (h.exits[exit] ?? 0) + n;
    out.set(r.node, h);
  }
  return out;
}

export type HeatLabels = { calls: (n: number) => string; hangups: (n: number) => string };

export function heatDecorations(heat: Map<string, NodeHeat>, labels: HeatLabels): Decorations {
  const nodes: NonNullable<Decorations["nodes"]> = {};
  const edges: NonNullable<Decorations["edges"]> = {};
  let maxNode = 0;
  let maxEdge = 0;
  for (const h of heat.values()) {
    maxNode = Math.max(maxNode, h.entered);
    for (const n of Object.values(h.exits)) maxEdge = Math.max(maxEdge, n);
  }
  for (const h of heat.values()) {
    const title = [labels.calls(h.entered), h.hangups ? labels.hangups(h.hangups) : ""].filter(Boolean).join(" · ");
    nodes[h.node] = {
      className: `heat-${heatLevel(h.entered, maxNode)}${h.hangups ? " heat-hangups" : ""}`,
      badge: h.hangups ? `${h.entered} · ☎ ${h.hangups}` : String(h.entered),
      title,
    };
    for (const [exit, n] of Object.entries(h.exits)) {
      edges[`${h.node}:${exit}`] = { className: `heat-edge-${heatLevel(n, maxEdge)}`, label: `${exit} · ${n}` };
    }
  }
  return { nodes, edges };
}
