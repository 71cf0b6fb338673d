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

/** Calls that entered a node and never left it by an exit: they ended there
 * (hung up, an error with no error exit, a transfer away, the call's end). */
export function endedAt(h: NodeHeat): number {
  return Math.max(0, h.entered - Object.values(h.exits).reduce((a, b) => a + b, 0));
}

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

export type HeatLabels = { calls: (n: number) => string; hangups: (n: number) => string; ended: (n: number) => string };

/** `ends`: the nodes where a call is meant to end (Hangup, Return); a call
 * that ended anywhere else, other than by the caller hanging up, is marked.
 * A caller who hangs up in a listening node may still leave it by an exit,
 * so this count is a lower bound: calls that never left, less hang-ups. */
export function heatDecorations(heat: Map<string, NodeHeat>, labels: HeatLabels, ends: Set<string> = new Set()): Decorations {
  const nodes: NonNullable<Decorations["nodes"]> = {};
  const edges: NonNullable<Decorations["edges"]> = {};
  let maxNode = 0;
  let maxEdge = 0;
  for (const h of heat.values()) {
    maxNode = Math.max(maxNode, h.entered);
    for (const n of Object.values(h.exits)) maxEdge = Math.max(maxEdge, n);
  }
  for (const h of heat.values()) {
    const other = ends.has(h.node) ? 0 : Math.max(0, endedAt(h) - h.hangups);
    const title = [labels.calls(h.entered), h.hangups ? labels.hangups(h.hangups) : "", other > 0 ? labels.ended(other) : ""]
      .filter(Boolean).join(" · ");
    const badge = [String(h.entered), h.hangups ? `☎ ${h.hangups}` : "", other > 0 ? `⚠ ${other}` : ""].filter(Boolean).join(" · ");
    nodes[h.node] = {
      className: `heat-${heatLevel(h.entered, maxNode)}${h.hangups ? " heat-hangups" : ""}${other > 0 ? " heat-ended" : ""}`,
      badge,
      title,
    };
    for (const [exit, n] of Object.entries(h.exits)) {
      edges[`${h.node}:${exit}`] = { className: `heat-edge-${heatLevel(n, maxEdge)}`, label: `${exit} · ${n}` };
    }
  }
  return { nodes, edges };
}
