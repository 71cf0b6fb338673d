import { describe, expect, it } from "vitest";
import { emptyTrace, foldTrace, traceDecorations, type TraceEvent } from "../src/pages/console/trace";

const ev = (seq: number, event: string, extra: Record<string, unknown> = {}): TraceEvent => ({
  seq, event, scenario_id: "ivr", scenario_version: 2, ...extra,
});

const call: TraceEvent[] = [
  ev(1, "call_started", { caller: "+7900", called: "+7495" }),
  ev(2, "node_entered", { node_id: "start", node_type: "start" }),
  ev(3, "node_left", { node_id: "start", exit: "next" }),
  ev(4, "node_entered", { node_id: "menu", node_type: "gather" }),
  ev(5, "prompt_played", { node_id: "menu", text: "Press 1", kind: "say" }),
  ev(6, "node_left", { node_id: "menu", exit: "invalid" }),
  ev(7, "node_entered", { node_id: "menu", node_type: "gather" }),
  ev(8, "variable_changed", { variable: "CHOICE", value: "1" }),
];

describe("a call's trace", () => {
  it("follows the path, the node the call is in and the exits taken", () => {
    const s = foldTrace(emptyTrace(), call);
    expect(s.scenarioId).toBe("ivr");
    expect(s.version).toBe(2);
    expect(s.path).toEqual(["start", "menu", "menu"]);
    expect(s.active).toBe("menu");
    expect(s.taken).toEqual({ "start:next": 1, "menu:invalid": 1 });
    expect(s.variables).toEqual({ CHOICE: "1" });
    expect(s.prompts.map((p) => p.text)).toEqual(["Press 1"]);
  });

  it("takes events in pieces, out of order and repeated, as a reconnecting socket gives them", () => {
    const once = foldTrace(emptyTrace(), call);
    const pieces = foldTrace(foldTrace(emptyTrace(), call.slice(4).concat(call.slice(0, 2))), call);
    // seq 3..4 arrive after 5..8 here: they are older than what was seen and are skipped
    expect(pieces.lastSeq).toBe(once.lastSeq);
    const ordered = foldTrace(foldTrace(emptyTrace(), call.slice(0, 4)), call.slice(2));
    expect(ordered).toEqual(once);
  });

  it("decorates visited nodes, the active one and taken edges; the end marks the hangup node", () => {
    let s = foldTrace(emptyTrace(), call);
    let d = traceDecorations(s);
    expect(d.nodes?.menu.className).toContain("trace-active");
    expect(d.nodes?.menu.badge).toBe("×2");
    expect(d.nodes?.start.className).toBe("trace-visited");
    expect(Object.keys(d.edges ?? {}).sort()).toEqual(["menu:invalid", "start:next"]);
    s = foldTrace(s, [
      ev(9, "call_hung_up", { node_id: "menu", cause: "normal", by: "caller" }),
      ev(10, "call_ended", { hangup_cause: "normal", duration: 4 }),
    ]);
    d = traceDecorations(s);
    expect(s.active).toBeNull();
    expect(d.nodes?.menu.className).toContain("trace-hangup");
    expect(d.nodes?.menu.className).not.toContain("trace-active");
  });

  it("keeps nodes of a subscenario off this scenario's canvas", () => {
    const s = foldTrace(emptyTrace(), [
      call[0],
      ev(2, "node_entered", { node_id: "lookup", node_type: "http", scenario_id: "billing", scenario_version: 1 }),
    ]);
    expect(s.path).toEqual([]);
    expect(s.active).toBeNull();
  });
});
