// The wallboard as the WebSocket tells it (docs/monitor.md): a snapshot, then
// deltas of whole rows, "resync" snapshots when the viewer fell behind, and
// alerts raised and cleared. WebSocket messages are not in the OpenAPI
// document, so their shape is written here from docs/monitor.md.
// `reduce` is pure: the page and the tests drive it the same way.

export type OperatorRow = {
  id: string;
  status: string | null;
  reason: string | null;
  available: boolean;
  logged_in: boolean;
  status_since: number | null;
  state: "idle" | "ringing" | "talking" | "wrap_up" | string;
  state_since: number | null;
  call_id: string | null;
  last_call_end: number | null;
  answered_today: number;
  /** the operator's SIP phone (null: no SIP account; absent: an older server) */
  phone?: PhoneInfo | null;
  /** false when the operator's phone is not registered: no call can ring them */
  reachable?: boolean;
};

export type PhoneInfo = { registered: boolean; bindings: number; since: number; user_agent: string | null };

export type WaitingCall = { call_id: string; position: number; since: number; caller: string; priority: number };

export type QueueRow = {
  id: string;
  name: string;
  waiting: WaitingCall[];
  longest_wait_since: number | null;
  offered: number;
  answered: number;
  abandoned: number;
  lost_other: number;
  overflow_in: number;
  overflow_out: number;
  avg_wait: number | null;
  avg_talk: number | null;
  threshold: number;
  service_level_target: number;
  service_level: number | null;
  logged_in: number;
  available: number;
};

/** `alerts`: the alerts raised now, in snapshots for viewers of the whole board (servers that send it). */
export type Board = { now: number | null; day: string | null; operators: OperatorRow[]; queues: QueueRow[]; alerts?: Alert[] };

export type Alert = {
  id: string;
  state: "raised" | "cleared";
  kind: string;
  at: number;
  message: string;
  line?: string;
  queue?: string;
  since?: number;
  level?: number;
  target?: number;
};

export type Change =
  | { kind: "operator"; id: string; data: OperatorRow }
  | { kind: "queue"; id: string; data: QueueRow };

export type Message =
  | { type: "snapshot" | "resync"; version: number; board: Board }
  | { type: "delta"; version: number; changes: Change[] }
  | { type: "alert"; version: number; alert: Alert };

export type BoardState = {
  board: Board | null;
  /** the version of the last message folded in */
  version: number;
  /** raised alerts by id, newest last */
  alerts: Alert[];
  /** true when a message was missed (a version gap): the viewer should reconnect for a snapshot */
  gap: boolean;
  resyncs: number;
};

export const EMPTY: BoardState = { board: null, version: 0, alerts: [], gap: false, resyncs: 0 };

function upsert<T extends { id: string }>(rows: T[], row: T): T[] {
  const at = rows.findIndex((r) => r.id === row.id);
  if (at < 0) return [...rows, row].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const next = rows.slice();
  next[at] = row;
  return next;
}

/** The board after one message. A snapshot or resync replaces everything
 * (the alerts too when it lists them); a delta replaces the rows it carries; an alert is added when
 * raised and removed when cleared. A version that skips one marks a gap. */
export function reduce(state: BoardState, message: Message): BoardState {
  if (message.type === "snapshot" || message.type === "resync") {
    return {
      ...state,
      board: message.board,
      alerts: Array.isArray(message.board.alerts) ? message.board.alerts.filter((a) => a.state !== "cleared") : state.alerts,
      version: message.version,
      gap: false,
      resyncs: state.resyncs + (message.type === "resync" ? 1 : 0),
    };
  }
  if (message.version <= state.version) return state; // already seen (or older than the snapshot)
  const gap = state.gap || (state.board !== null && message.version !== state.version + 1);
  if (message.type === "alert") {
    const others = state.alerts.filter((a) => a.id !== message.alert.id);
    const alerts = message.alert.state === "raised" ? [...others, message.alert] : others;
    return { ...state, alerts, version: message.version, gap };
  }
  if (message.type !== "delta") return state;
  if (!state.board) return { ...state, version: message.version, gap: true };
  let { operators, queues } = state.board;
  for (const change of message.changes) {
    if (change.kind === "operator") operators = upsert(operators, change.data);
    else if (change.kind === "queue") queues = upsert(queues, change.data);
  }
  return { ...state, board: { ...state.board, operators, queues }, version: message.version, gap };
}

/** A parsed message, or null for anything that is not one (never throws). */
export function parseMessage(text: string): Message | null {
  try {
    const value = JSON.parse(text) as Message;
    if (!value || typeof value !== "object" || typeof value.version !== "number") return null;
    if (value.type === "snapshot" || value.type === "resync") return value.board ? value : null;
    if (value.type === "delta") return Array.isArray(value.changes) ? value : null;
    if (value.type === "alert") return value.alert ? value : null;
    return null;
  } catch {
    return null;
  }
}
