// A call's trace (its events, as the trace WebSocket and GET .../events give
// them) folded into what the console shows: the path, the node the call is
// in now, the exits taken, prompts, variables; and the canvas decorations
// that draw it. Pure functions, tested with vitest.

export type TraceEvent = { seq: number; event: string; t?: number; [key: string]: unknown };

export type Decorations = {
  nodes?: Record<string, { className?: string; badge?: string; title?: string }>;
  edges?: Record<string, { className?: string; label?: string }>;
};

export type TraceState = {
  scenarioId: string | null;
  version: number | null;
  /** node ids entered, in order, in the call's own scenario */
  path: string[];
  /** the node the call is in now (null between nodes and once it ended) */
  active: string | null;
  /** "node:exit" -> times taken */
  taken: Record<string, number>;
  visits: Record<string, number>;
  prompts: { seq: number; node: string | null; text: string; kind: string; language?: string }[];
  variables: Record<string, unknown>;
  /** node -> the failure there */
  failed: Record<string, string>;
  hangup: { cause: string; by: string; node: string | null } | null;
  ended: boolean;
  lastSeq: number;
};

export function emptyTrace(): TraceState {
  return {
    scenarioId: null, version: null, path: [], active: null, taken: {}, visits: {}, prompts: [],
    variables: {}, failed: {}, hangup: null, ended: false, lastSeq: 0,
  };
}

/** Adds events (any order, repeats ignored by seq) to a trace state; returns a new state. */
export function foldTrace(state: TraceState, events: TraceEvent[]): TraceState {
  const next: TraceState = {
    ...state, path: [...state.path], taken: { ...state.taken }, visits: { ...state.visits },
    prompts: [...state.prompts], variables: { ...state.variables }, failed: { ...state.failed },
  };
  for (const e of [...events].sort((a, b) => a.seq - b.seq)) {
    if (e.seq <= next.lastSeq) continue;
    next.lastSeq = e.seq;
    const node = typeof e.node_id === "string" ? e.node_id : null;
    const own = next.scenarioId === null || e.scenario_id === undefined || e.scenario_id === next.scenarioId;
    switch (e.event) {
      case "call_started":
        next.scenarioId = String(e.scenario_id ?? "") || null;
        next.version = typeof e.scenario_version === "number" ? e.scenario_version : null;
        break;
      case "node_entered":
        if (own && node) {
          next.path.push(node);
          next.visits[node] = (next.visits[node] ?? 0) + 1;
          next.active = node;
        } else {
          next.active = null;
        }
        break;
      case "node_left":
        if (own && node) {
          const key = `${node}:${String(e.exit)}`;
          next.taken[key] = (next.taken[key] ?? 0) + 1;
        }
        if (next.active === node) next.active = null;
        break;
      case "prompt_played":
        next.prompts.push({
          seq: e.seq, node, text: String(e.text ?? ""), kind: String(e.kind ?? "say"),
          language: typeof e.language === "string" ? e.language : undefined,
        });
        break;
      case "variable_changed":
        next.variables[String(e.variable)] = e.value;
        break;
      case "node_failed":
        if (node) next.failed[node] = String(e.message ?? e.code ?? "");
        break;
      case "call_hung_up":
        next.hangup = { cause: String(e.cause ?? ""), by: String(e.by ?? ""), node };
        break;
      case "call_ended":
        next.ended = true;
        next.active = null;
        break;
    }
  }
  return next;
}

/** The canvas decorations of a trace: nodes passed (with a visit count when
 * more than once), the node the call is in, the exits taken, failures, and
 * where the call hung up. */
export function traceDecorations(state: TraceState): Decorations {
  const nodes: NonNullable<Decorations["nodes"]> = {};
  const edges: NonNullable<Decorations["edges"]> = {};
  for (const [node, count] of Object.entries(state.visits)) {
    nodes[node] = { className: "trace-visited", badge: count > 1 ? `×${count}` : undefined };
  }
  for (const [node, message] of Object.entries(state.failed)) {
    nodes[node] = { ...nodes[node], className: "trace-visited trace-failed", title: message };
  }
  if (state.hangup?.node && nodes[state.hangup.node]) {
    const n = nodes[state.hangup.node];
    nodes[state.hangup.node] = { ...n, className: `${n.className ?? ""} trace-hangup`.trim(), badge: n.badge ?? "☎" };
  }
  if (state.active) {
    nodes[state.active] = { ...nodes[state.active], className: "trace-visited trace-active" };
  }
  for (const [key, count] of Object.entries(state.taken)) {
    edges[key] = { className: "trace-taken", label: count > 1 ? `×${count}` : undefined };
  }
  return { nodes, edges };
}

/** A one-line summary of an event for the trace list. */
export function describeEvent(e: TraceEvent): string {
  switch (e.event) {
    case "call_started":
      return `${String(e.caller)} → ${String(e.called) || "''"} · ${String(e.scenario_id) || "—"} v${String(e.scenario_version)}`;
    case "node_entered":
      return `${String(e.node_id)} (${String(e.node_type)})`;
    case "node_left":
      return `${String(e.node_id)} → ${String(e.exit)}`;
    case "prompt_played":
      return `«${String(e.text)}»${e.interrupted ? " ✂" : ""}`;
    case "digits_received":
      return `${String(e.digits) || "∅"} (${String(e.reason)})`;
    case "speech_recognized":
      return `«${String(e.text)}»${e.matched ? ` = ${String(e.matched)}` : ""}`;
    case "variable_changed":
      return `${String(e.variable)} = ${JSON.stringify(e.value)}`;
    case "node_failed":
      return `${String(e.node_id)}: ${String(e.message)}`;
    case "call_hung_up":
      return `${String(e.cause)} (${String(e.by)})`;
    case "call_ended":
      return `${String(e.hangup_cause)} · ${Number(e.duration ?? 0).toFixed(1)} s`;
    case "scenario_entered":
      return `${String(e.scenario_id)} v${String(e.scenario_version)} (${String(e.mode)})`;
    case "queue_entered":
    case "queue_connected":
      return `${String(e.queue_id ?? "")} ${e.operator_id ? String(e.operator_id) : ""}`.trim();
    default:
      return "";
  }
}
