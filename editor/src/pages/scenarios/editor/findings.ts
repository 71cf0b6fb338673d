// Validation findings laid over the drawing: each on the node it names, and
// on the edge where its JSON path names a wired exit.
import type { Schemas } from "../../../api/client";
import { edgeId, type Decorations } from "../../../canvas/convert";
import type { ScenarioDocument } from "../../../canvas/model";

export type Finding = Schemas["Finding"];

const NODE_PATH = /^nodes\[(\d+)\](?:\.exits\.([^.[\]]+))?/;

/** The node (and exit, if any) a finding is about. */
export function findingTarget(f: Finding, doc: ScenarioDocument): { node?: string; edge?: string } {
  const m = f.path ? NODE_PATH.exec(f.path) : null;
  const node = f.node_id ?? (m ? doc.nodes[Number(m[1])]?.id : undefined);
  if (!node) return {};
  const exit = m?.[2];
  const wired = exit ? doc.nodes.find((n) => n.id === node)?.exits?.[exit] : undefined;
  return { node, edge: exit && wired ? edgeId(node, exit) : undefined };
}

export function findingDecorations(findings: Finding[], doc: ScenarioDocument): Decorations {
  const nodes: NonNullable<Decorations["nodes"]> = {};
  const edges: NonNullable<Decorations["edges"]> = {};
  const perNode = new Map<string, Finding[]>();
  for (const f of findings) {
    const { node, edge } = findingTarget(f, doc);
    if (node) perNode.set(node, [...(perNode.get(node) ?? []), f]);
    if (edge) {
      const cls = f.severity === "error" ? "has-error" : "has-warning";
      if (edges[edge]?.className !== "has-error") edges[edge] = { className: cls };
    }
  }
  for (const [node, list] of perNode) {
    const error = list.some((f) => f.severity === "error");
    nodes[node] = {
      className: error ? "has-error" : "has-warning",
      badge: error ? `✖ ${list.length}` : `! ${list.length}`,
      title: list.map((f) => f.message).join("\n"),
    };
  }
  return { nodes, edges };
}
