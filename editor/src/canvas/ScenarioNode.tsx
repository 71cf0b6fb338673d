// How one scenario node looks on the canvas: type icon, title, the node id,
// and one labelled handle per exit on the right; one input handle on the left.
import { memo } from "react";
import { Handle, Position, type NodeProps } from "@xyflow/react";
import type { FlowNode } from "./convert";
import { iconFor } from "./icons";

function ScenarioNodeView({ data, selected }: NodeProps<FlowNode>) {
  const { doc, typeTitle, icon, category, exits, known, decoration } = data;
  const title = doc.title || typeTitle;
  return (
    <div
      className={`fe-node cat-${category || "unknown"}${selected ? " selected" : ""}${known ? "" : " unknown-type"}`}
      title={decoration?.title}
      data-testid={`node-${doc.id}`}
      data-node-id={doc.id}
    >
      {doc.type !== "start" && (
        <Handle type="target" position={Position.Left} id="in" className="fe-in" data-testid={`in-${doc.id}`} />
      )}
      <div className="fe-node-head">
        <span className="fe-icon" aria-hidden="true">{iconFor(icon, category)}</span>
        <span className="fe-titles">
          <span className="fe-title">{title}</span>
          <span className="fe-sub">{doc.title ? `${typeTitle} · ${doc.id}` : doc.id}</span>
        </span>
        {decoration?.badge && <span className="fe-badge">{decoration.badge}</span>}
      </div>
      <ul className="fe-exits">
        {exits.map((exit) => (
          <li key={exit} className={exit === "error" ? "fe-exit fe-exit-error" : "fe-exit"}>
            <span>{exit}</span>
            <Handle
              type="source"
              position={Position.Right}
              id={exit}
              className="fe-out"
              data-testid={`out-${doc.id}-${exit}`}
            />
          </li>
        ))}
      </ul>
    </div>
  );
}

export const ScenarioNode = memo(ScenarioNodeView);
