import { describe, expect, it } from "vitest";
import { EMPTY, parseMessage, reduce, type Board, type Message, type OperatorRow, type QueueRow } from "../src/pages/wallboard/board";
import { format } from "../src/i18n";
import { alertText } from "../src/pages/wallboard/alerts";
import { WALLBOARD } from "../src/pages/wallboard/strings";
import { arcPath, clock, duration, percent, since, slHealth, tick, waitHealth } from "../src/pages/wallboard/format";

function op(id: string, extra: Partial<OperatorRow> = {}): OperatorRow {
  return {
    id, status: "available", reason: null, available: true, logged_in: true, status_since: 100, state: "idle",
    state_since: null, call_id: null, last_call_end: null, answered_today: 0, ...extra,
  };
}

function queue(id: string, extra: Partial<QueueRow> = {}): QueueRow {
  return {
    id, name: id, waiting: [], longest_wait_since: null, offered: 0, answered: 0, abandoned: 0, lost_other: 0,
    overflow_in: 0, overflow_out: 0, avg_wait: null, avg_talk: null, threshold: 20, service_level_target: 0.8,
    service_level: null, logged_in: 1, available: 1, ...extra,
  };
}

const board: Board = { now: 100, day: "2026-11-23", operators: [op("901"), op("903")], queues: [queue("sales")] };
const snapshot: Message = { type: "snapshot", version: 5, board };

describe("wallboard reducer", () => {
  it("takes the snapshot, then replaces the rows a delta carries", () => {
    let s = reduce(EMPTY, snapshot);
    expect(s.version).toBe(5);
    s = reduce(s, {
      type: "delta", version: 6,
      changes: [
        { kind: "operator", id: "903", data: op("903", { status: "break", reason: "lunch", available: false }) },
        { kind: "queue", id: "sales", data: queue("sales", { offered: 1, waiting: [{ call_id: "c1", position: 1, since: 101, caller: "+7916", priority: 0 }] }) },
      ],
    });
    expect(s.board!.operators.map((o) => [o.id, o.status])).toEqual([["901", "available"], ["903", "break"]]);
    expect(s.board!.queues[0].offered).toBe(1);
    expect(s.board!.queues[0].waiting).toHaveLength(1);
    expect(s.gap).toBe(false);
    // the board it started from is untouched (a pure fold)
    expect(board.operators[1].status).toBe("available");
  });

  it("adds rows it did not know, in id order", () => {
    const s = reduce(reduce(EMPTY, snapshot), { type: "delta", version: 6, changes: [{ kind: "operator", id: "902", data: op("902") }] });
    expect(s.board!.operators.map((o) => o.id)).toEqual(["901", "902", "903"]);
  });

  it("marks a gap when a version is skipped, and a resync clears it", () => {
    let s = reduce(EMPTY, snapshot);
    s = reduce(s, { type: "delta", version: 8, changes: [] });
    expect(s.gap).toBe(true);
    s = reduce(s, { type: "resync", version: 9, board: { ...board, queues: [queue("sales", { offered: 7 })] } });
    expect(s.gap).toBe(false);
    expect(s.resyncs).toBe(1);
    expect(s.board!.queues[0].offered).toBe(7);
  });

  it("ignores messages older than the snapshot", () => {
    const s = reduce(EMPTY, snapshot);
    const after = reduce(s, { type: "delta", version: 5, changes: [{ kind: "operator", id: "901", data: op("901", { status: "break" }) }] });
    expect(after).toBe(s);
  });

  it("keeps raised alerts and drops them when cleared", () => {
    let s = reduce(EMPTY, snapshot);
    const alert = { id: "line_silent:trunk-1", kind: "line_silent", at: 200, message: "no call on line trunk-1 for 30 min", line: "trunk-1" };
    s = reduce(s, { type: "alert", version: 6, alert: { ...alert, state: "raised" } });
    expect(s.alerts.map((a) => a.id)).toEqual(["line_silent:trunk-1"]);
    s = reduce(s, { type: "alert", version: 7, alert: { ...alert, state: "cleared", at: 300 } });
    expect(s.alerts).toEqual([]);
    // alerts survive a resync (the board carries none)
    s = reduce(s, { type: "alert", version: 8, alert: { ...alert, state: "raised" } });
    s = reduce(s, { type: "resync", version: 9, board });
    expect(s.alerts).toHaveLength(1);
    // a snapshot that lists the alerts raised now is the truth
    s = reduce(s, { type: "resync", version: 10, board: { ...board, alerts: [] } });
    expect(s.alerts).toEqual([]);
    s = reduce(s, { type: "snapshot", version: 11, board: { ...board, alerts: [{ ...alert, state: "raised" }] } });
    expect(s.alerts.map((a) => a.id)).toEqual(["line_silent:trunk-1"]);
  });

  it("parses only well-formed messages", () => {
    expect(parseMessage(JSON.stringify(snapshot))?.type).toBe("snapshot");
    expect(parseMessage("not json")).toBeNull();
    expect(parseMessage(JSON.stringify({ type: "delta", version: 2 }))).toBeNull();
    expect(parseMessage(JSON.stringify({ type: "other", version: 2 }))).toBeNull();
  });
});

describe("formatting", () => {
  it("durations", () => {
    expect(duration(7)).toBe("0:07");
    expect(duration(725.9)).toBe("12:05");
    expect(duration(3723)).toBe("1:02:03");
    expect(duration(null)).toBe("—");
    expect(duration(-1)).toBe("—");
  });
  it("time since an instant never goes below zero", () => {
    expect(since(110, 100)).toBe(10);
    expect(since(90, 100)).toBe(0);
    expect(since(90, null)).toBeNull();
  });
  it("percentages and clock times", () => {
    expect(percent(0.8567)).toBe("86 %");
    expect(percent(0.8567, 1)).toBe("85.7 %");
    expect(percent(null)).toBe("—");
    const at = new Date(2026, 10, 23, 9, 5, 7).getTime() / 1000;
    expect(clock(at)).toBe("09:05");
    expect(clock(at, true)).toBe("09:05:07");
  });
});

describe("service level display", () => {
  it("stands against the target", () => {
    expect(slHealth(null, 0.8)).toBe("none");
    expect(slHealth(0.8, 0.8)).toBe("ok");
    expect(slHealth(0.75, 0.8)).toBe("warn");
    expect(slHealth(0.5, 0.8)).toBe("bad");
  });
  it("waits against the threshold", () => {
    expect(waitHealth(5, 20)).toBe("ok");
    expect(waitHealth(15, 20)).toBe("warn");
    expect(waitHealth(25, 20)).toBe("bad");
  });
  it("the gauge's arc runs from the left end over the top", () => {
    // empty: starts and ends at the left end; full: ends at the right end; half: at the top
    expect(arcPath(100, 100, 80, 0, 1)).toBe("M 20.00 100.00 A 80 80 0 0 1 180.00 100.00");
    expect(arcPath(100, 100, 80, 0, 0.5)).toBe("M 20.00 100.00 A 80 80 0 0 1 100.00 20.00");
    expect(arcPath(100, 100, 80, 0, 1.7)).toBe(arcPath(100, 100, 80, 0, 1)); // clamped
    const [x1, y1, x2, y2] = tick(100, 100, 60, 90, 0.5);
    expect([Math.round(x1), Math.round(y1), Math.round(x2), Math.round(y2)]).toEqual([100, 40, 100, 10]);
  });
});

describe("alerts in the UI language", () => {
  const tr = (lang: "en" | "ru") => (key: keyof (typeof WALLBOARD)["en"], params?: Record<string, string | number>) =>
    format(WALLBOARD[lang][key], params);
  const base = { state: "raised" as const, at: 1000, message: "server text" };

  it("counts a silent line's minutes and a wait live", () => {
    const silent = { ...base, id: "line_silent:trunk-1", kind: "line_silent", line: "trunk-1", since: 0 };
    expect(alertText(silent, "", 1800, tr("en"))).toBe("No calls on line trunk-1 for 30 min");
    expect(alertText(silent, "", 2400, tr("ru"))).toBe("На линии trunk-1 нет звонков уже 40 мин");
    const wait = { ...base, id: "long_wait:sales", kind: "long_wait", queue: "sales", since: 1000 };
    expect(alertText(wait, "Отдел продаж", 1125, tr("ru"))).toBe("Отдел продаж: клиент ждёт уже 2:05");
  });
  it("shows a low service level against its target, and the server's text for unknown kinds", () => {
    const sl = { ...base, id: "service_level:sales", kind: "service_level", queue: "sales", level: 0.5, target: 0.8 };
    expect(alertText(sl, "Sales", 0, tr("en"))).toBe("Sales: service level 50 %, below the target 80 %");
    expect(alertText({ ...base, id: "x", kind: "new_kind" }, "", 0, tr("en"))).toBe("server text");
  });
});
