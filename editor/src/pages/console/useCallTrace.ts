// A call's live trace: the trace WebSocket (kept events, then live ones
// until call_ended); if the socket closes early or cannot open, the REST
// trace is polled from the last seq seen, so nothing is missed.
import { useEffect, useRef, useState } from "react";
import { api, unwrap, wsUrl } from "../../api/client";
import { emptyTrace, foldTrace, type TraceEvent, type TraceState } from "./trace";

export function useCallTrace(callId: string | null): { trace: TraceState; events: TraceEvent[] } {
  const [state, setState] = useState<{ trace: TraceState; events: TraceEvent[] }>({ trace: emptyTrace(), events: [] });
  const seen = useRef(0);

  useEffect(() => {
    setState({ trace: emptyTrace(), events: [] });
    seen.current = 0;
    if (!callId) return;
    let stopped = false;
    let ended = false;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const add = (events: TraceEvent[]) => {
      const fresh = events.filter((e) => e.seq > seen.current).sort((a, b) => a.seq - b.seq);
      if (!fresh.length || stopped) return;
      seen.current = fresh[fresh.length - 1].seq;
      if (fresh.some((e) => e.event === "call_ended")) ended = true;
      setState((s) => ({ trace: foldTrace(s.trace, fresh), events: [...s.events, ...fresh] }));
    };

    const poll = async () => {
      if (stopped || ended) return;
      try {
        const page = await unwrap(api.GET("/api/v1/calls/{call_id}/events", {
          params: { path: { call_id: callId }, query: { from_seq: seen.current } },
        }));
        add(page.events as TraceEvent[]);
        if (page.ended) ended = true;
      } catch {
        // the next round tries again
      }
      if (!stopped && !ended) timer = setTimeout(() => void poll(), 700);
    };

    const socket = new WebSocket(wsUrl(`/api/v1/monitor/calls/${encodeURIComponent(callId)}/trace?from_seq=0`));
    socket.onmessage = (msg) => {
      try {
        add([JSON.parse(String(msg.data)) as TraceEvent]);
      } catch {
        // not an event: ignored
      }
    };
    socket.onclose = () => {
      if (!stopped && !ended) void poll();
    };
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      socket.onclose = null;
      socket.close();
    };
  }, [callId]);

  return state;
}
