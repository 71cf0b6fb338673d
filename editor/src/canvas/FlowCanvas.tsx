/**
 * FlowCanvas: a scenario document drawn as a graph. Reusable, read-only or editable.
 *
 * STABLE API (other pages use it: the version diff, the test console's live
 * path, the heatmap). Add props; do not change these.
 *
 *   <FlowCanvas
 *     document={doc}                 // the scenario document (schema 1), as the API returns it
 *     readOnly                       // no moving, connecting or deleting
 *     decorations={{
 *       nodes: { menu_by_number: { className: "diff-changed", badge: "12", title: "12 calls" } },
 *       edges: { "menu_by_number:moscow": { className: "path-taken", label: "moscow · 7" } },
 *     }}
 *     autoLayout="if-missing"        // "never" | "if-missing" | "always"; "if-missing" (default) lays out
 *                                    // when every node is at 0,0, and in readOnly also when boxes overlap
 *     onNodeClick={(id) => ...}
 *     ref={handle}                   // CanvasHandle: fitView(), layout(), focusNode(id), select(ids)
 *   />
 *
 * - Nodes show the type's icon and title (in the UI language), the node's
 *   title and id, and one handle per exit (`data-testid="out-<node>-<exit>"`);
 *   each node's box has `data-testid="node-<id>"`.
 * - Edges have the id "<sourceId>:<exit>" and are labelled with the exit.
 * - decorations.nodes[id].className goes on React Flow's node wrapper
 *   (`.react-flow__node`), so CSS such as `.react-flow__node.my-class .fe-node`
 *   styles the box; `badge` is shown in the node's corner, `title` is the
 *   hover text. decorations.edges["source:exit"].className goes on the edge,
 *   `label` replaces the exit name. Decorations never change the document.
 * - The node-type catalogue is fetched from GET /api/v1/components unless
 *   given as `components`.
 * - Zoom to fit on open, minimap, zoom controls. ELK is loaded on first layout.
 *
 * Editing (readOnly false) reports every change as a new document through
 * `onChange(doc, what)`; the caller owns the document (undo, saving).
 */
import {
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  applyEdgeChanges,
  applyNodeChanges,
  useReactFlow,
  type Connection,
  type EdgeChange,
  type NodeChange,
  type OnSelectionChangeParams,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import {
  useCallback,
  useEffect,
  useImperativeHandle,
  useMemo,
  useRef,
  useState,
  type DragEvent,
  type ReactNode,
  type Ref,
} from "react";
import { useLang } from "../i18n";
import { componentMap, docToFlow, type Decorations, type FlowEdge, type FlowNode } from "./convert";
import { autoLayout, crowded, needsLayout } from "./layout";
import type { ComponentInfo, ScenarioDocument } from "./model";
import { connect, disconnect, moveNodes, removeNodes } from "./ops";
import { ScenarioNode } from "./ScenarioNode";
import { useCatalogue } from "./useComponents";
import "./canvas.css";

export type { Decorations } from "./convert";

export type CanvasHandle = {
  /** Zoom so that every node (or the given ones) is in view. */
  fitView: (nodeIds?: string[]) => void;
  /** Lays the graph out with ELK; in edit mode the result is an onChange("layout"). */
  layout: () => Promise<void>;
  /** Centres a node and selects it. */
  focusNode: (id: string) => void;
  /** Selects these nodes (and nothing else), without moving the view. */
  select: (nodeIds: string[]) => void;
  /** Converts a point on the screen to canvas coordinates. */
  screenToFlow: (point: { x: number; y: number }) => { x: number; y: number };
};

export type FlowCanvasProps = {
  document: ScenarioDocument;
  components?: ComponentInfo[];
  readOnly?: boolean;
  decorations?: Decorations;
  autoLayout?: "never" | "if-missing" | "always";
  onChange?: (doc: ScenarioDocument, what: string) => void;
  onNodeClick?: (nodeId: string) => void;
  onEdgeClick?: (edgeId: string) => void;
  onSelectionChange?: (selection: { nodes: string[]; edges: string[] }) => void;
  /** A palette item (dataTransfer "application/x-flowengine-type") dropped at a canvas position. */
  onDropComponent?: (type: string, position: { x: number; y: number }) => void;
  /** Called once the first drawing (and layout, if any) is on screen, with the time it took in ms. */
  onRendered?: (ms: number) => void;
  className?: string;
  children?: ReactNode;
  ref?: Ref<CanvasHandle>;
};

export const DRAG_TYPE = "application/x-flowengine-type";
const nodeTypes = { scenarioNode: ScenarioNode };
const MINIMAP_COLOURS: Record<string, string> = {
  flow: "#64748b", media: "#0ea5e9", input: "#8b5cf6", data: "#14b8a6", acd: "#f59e0b", integration: "#ec4899",
};

export function FlowCanvas(props: FlowCanvasProps) {
  return (
    <ReactFlowProvider>
      <CanvasInner {...props} />
    </ReactFlowProvider>
  );
}

function CanvasInner({
  document: doc,
  components,
  readOnly = false,
  decorations,
  autoLayout: layoutMode = "if-missing",
  onChange,
  onNodeClick,
  onEdgeClick,
  onSelectionChange,
  onDropComponent,
  onRendered,
  className,
  children,
  ref,
}: FlowCanvasProps) {
  const { lang } = useLang();
  const fetched = useCatalogue();
  const catalogue = components ?? fetched.catalogue?.components;
  const byType = useMemo(() => componentMap(catalogue), [catalogue]);
  const flow = useReactFlow<FlowNode, FlowEdge>();
  const started = useRef(performance.now());
  const [laidOut, setLaidOut] = useState<Record<string, { x: number; y: number }> | null>(null);
  // read-only views also lay out a drawing whose boxes overlap (nothing is saved)
  const wantsLayout =
    layoutMode === "always" ||
    (layoutMode === "if-missing" && (needsLayout(doc) || (readOnly && catalogue !== undefined && crowded(doc, byType))));

  const derived = useMemo(() => {
    if (!catalogue) return null;
    const shown = laidOut && readOnly ? moveNodes(doc, laidOut) : doc;
    return docToFlow(shown, byType, lang, decorations);
  }, [catalogue, byType, doc, lang, decorations, laidOut, readOnly]);

  const [nodes, setNodes] = useState<FlowNode[]>([]);
  // a selection asked for before its nodes are drawn (a node just added)
  const pendingSelect = useRef<Set<string> | null>(null);
  const fitWhenDrawn = useRef(false);
  const [edges, setEdges] = useState<FlowEdge[]>([]);
  useEffect(() => {
    if (!derived) return;
    // keep what the user selected across a new document
    const wanted = pendingSelect.current;
    pendingSelect.current = null;
    setNodes((old) => {
      const selected = wanted ?? new Set(old.filter((n) => n.selected).map((n) => n.id));
      return derived.nodes.map((n) => (selected.has(n.id) ? { ...n, selected: true } : n));
    });
    setEdges((old) => {
      const selected = new Set(old.filter((e) => e.selected).map((e) => e.id));
      return derived.edges.map((e) => (selected.has(e.id) ? { ...e, selected: true } : e));
    });
  }, [derived]);

  const runLayout = useCallback(async () => {
    const positions = await autoLayout(doc, byType);
    fitWhenDrawn.current = true; // fit once the new positions are on screen
    if (readOnly || !onChange) setLaidOut(positions);
    else onChange(moveNodes(doc, positions), "layout");
  }, [doc, byType, readOnly, onChange]);
  useEffect(() => {
    if (!fitWhenDrawn.current) return;
    fitWhenDrawn.current = false;
    requestAnimationFrame(() => void flow.fitView({ padding: 0.1, maxZoom: 1 }));
  }, [nodes, flow]);

  // first drawing: lay out if asked, fit, report the time
  const firstDone = useRef(false);
  useEffect(() => {
    if (firstDone.current || !derived || nodes.length !== derived.nodes.length) return;
    firstDone.current = true;
    const finish = () =>
      requestAnimationFrame(() => {
        void flow.fitView({ padding: 0.1, maxZoom: 1 });
        requestAnimationFrame(() => onRendered?.(performance.now() - started.current));
      });
    if (wantsLayout && doc.nodes.length > 1) void runLayout().then(finish);
    else finish();
  }, [derived, nodes.length, wantsLayout, doc.nodes.length, runLayout, flow, onRendered]);

  useImperativeHandle(
    ref,
    () => ({
      fitView: (ids) => void flow.fitView({ padding: 0.15, maxZoom: 1, nodes: ids?.map((id) => ({ id })) }),
      layout: runLayout,
      focusNode: (id) => {
        const node = flow.getNode(id);
        if (!node) return;
        setNodes((ns) => ns.map((n) => ({ ...n, selected: n.id === id })));
        const w = node.width ?? 210;
        const h = node.height ?? 80;
        void flow.setCenter(node.position.x + w / 2, node.position.y + h / 2, { zoom: flow.getZoom(), duration: 250 });
      },
      select: (ids) => {
        const chosen = new Set(ids);
        pendingSelect.current = chosen;
        setNodes((ns) => ns.map((n) => (n.selected === chosen.has(n.id) ? n : { ...n, selected: chosen.has(n.id) })));
        setEdges((es) => es.map((e) => (e.selected ? { ...e, selected: false } : e)));
      },
      screenToFlow: (p) => flow.screenToFlowPosition(p),
    }),
    [flow, runLayout],
  );

  const onNodesChange = useCallback(
    (changes: NodeChange<FlowNode>[]) => setNodes((ns) => applyNodeChanges(changes, ns)),
    [],
  );
  const onEdgesChange = useCallback(
    (changes: EdgeChange<FlowEdge>[]) => setEdges((es) => applyEdgeChanges(changes, es)),
    [],
  );
  const editable = !readOnly && onChange !== undefined;

  const onNodeDragStop = useCallback(
    (_e: unknown, _node: FlowNode, dragged: FlowNode[]) => {
      if (!editable) return;
      const positions = Object.fromEntries(dragged.map((n) => [n.id, n.position]));
      onChange(moveNodes(doc, positions), "move");
    },
    [editable, onChange, doc],
  );
  const onConnect = useCallback(
    (c: Connection) => {
      if (!editable || !c.sourceHandle) return;
      onChange(connect(doc, c.source, c.sourceHandle, c.target), "connect");
    },
    [editable, onChange, doc],
  );
  const onDelete = useCallback(
    ({ nodes: goneNodes, edges: goneEdges }: { nodes: FlowNode[]; edges: FlowEdge[] }) => {
      if (!editable) return;
      let next = removeNodes(doc, goneNodes.map((n) => n.id));
      for (const e of goneEdges) next = disconnect(next, e.source, e.data?.exit ?? e.sourceHandle ?? "");
      onChange(next, "delete");
    },
    [editable, onChange, doc],
  );
  const selectionChanged = useCallback(
    ({ nodes: ns, edges: es }: OnSelectionChangeParams) =>
      onSelectionChange?.({ nodes: ns.map((n) => n.id), edges: es.map((e) => e.id) }),
    [onSelectionChange],
  );
  const onDragOver = useCallback((e: DragEvent) => {
    if (e.dataTransfer.types.includes(DRAG_TYPE)) {
      e.preventDefault();
      e.dataTransfer.dropEffect = "copy";
    }
  }, []);
  const onDrop = useCallback(
    (e: DragEvent) => {
      const type = e.dataTransfer.getData(DRAG_TYPE);
      if (!type || !onDropComponent) return;
      e.preventDefault();
      onDropComponent(type, flow.screenToFlowPosition({ x: e.clientX, y: e.clientY }));
    },
    [onDropComponent, flow],
  );

  if (fetched.error && !components) {
    return <div className="notice notice-error" role="alert">{String((fetched.error as Error).message ?? fetched.error)}</div>;
  }
  return (
    <div className={`fe-canvas ${className ?? ""}`} data-testid="flow-canvas" onDragOver={onDragOver} onDrop={onDrop}>
      <ReactFlow<FlowNode, FlowEdge>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onNodeDragStop={onNodeDragStop}
        onConnect={onConnect}
        onDelete={onDelete}
        onSelectionChange={selectionChanged}
        onNodeClick={(_e, n) => onNodeClick?.(n.id)}
        onEdgeClick={(_e, e) => onEdgeClick?.(e.id)}
        nodesDraggable={editable}
        nodesConnectable={editable}
        elementsSelectable
        deleteKeyCode={editable ? ["Delete", "Backspace"] : null}
        multiSelectionKeyCode={["Meta", "Control"]}
        minZoom={0.05}
        maxZoom={2}
        defaultEdgeOptions={{ markerEnd: { type: "arrowclosed" as never, width: 16, height: 16 } }}
        proOptions={{ hideAttribution: true }}
        fitView
        fitViewOptions={{ maxZoom: 1 }}
      >
        <Background gap={20} size={1} />
        <MiniMap pannable zoomable nodeColor={(n) => MINIMAP_COLOURS[(n.data as { category?: string }).category ?? ""] ?? "#94a3b8"} />
        <Controls />
        {children}
      </ReactFlow>
    </div>
  );
}
