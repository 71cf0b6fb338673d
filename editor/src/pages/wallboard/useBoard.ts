// The live wallboard over the WebSocket: connects, folds messages in with
// `reduce`, and reconnects after a drop (1 s, 2 s, 4 s … at most 15 s) or a
// version gap, so the board never needs a reload. A refused token (4401) is
// not retried: the session has ended.
import { useEffect, useReducer, useRef, useState } from "react";
import { wsUrl } from "../../api/client";
import { EMPTY, parseMessage, reduce, type BoardState, type Message } from "./board";

export type Link = "connecting" | "live" | "reconnecting" | "refused";

type Action = { message: Message } | { reset: true };

function reducer(state: BoardState, action: Action): BoardState {
  return "reset" in action ? { ...state, gap: false } : reduce(state, action.message);
}

const PATH = "/api/v1/monitor/wallboard";

/** `watchGaps`: reconnect when a version is skipped (only a viewer that sees
 * every message can tell; an operator's filtered view skips versions). */
export function useBoard(watchGaps: boolean): { state: BoardState; link: Link; reconnects: number } {
  const [state, dispatch] = useReducer(reducer, EMPTY);
  const [link, setLink] = useState<Link>("connecting");
  const [reconnects, setReconnects] = useState(0);
  const socket = useRef<WebSocket | null>(null);

  useEffect(() => {
    let stopped = false;
    let attempt = 0;
    let timer: number | undefined;

    function open() {
      if (stopped) return;
      const ws = new WebSocket(wsUrl(PATH));
      socket.current = ws;
      ws.onopen = () => {
        attempt = 0;
        setLink("live");
      };
      ws.onmessage = (event) => {
        const message = parseMessage(String(event.data));
        if (message) dispatch({ message });
      };
      ws.onclose = (event) => {
        if (socket.current === ws) socket.current = null;
        if (stopped) return;
        if (event.code === 4401 || event.code === 4403) {
          setLink("refused");
          return;
        }
        setLink("reconnecting");
        const delay = Math.min(15_000, 1000 * 2 ** attempt);
        attempt += 1;
        timer = window.setTimeout(() => {
          setReconnects((n) => n + 1);
          open();
        }, delay);
      };
    }

    open();
    return () => {
      stopped = true;
      if (timer !== undefined) window.clearTimeout(timer);
      socket.current?.close();
    };
  }, []);

  // a skipped version: what we show may be stale, so start again from a snapshot
  useEffect(() => {
    if (watchGaps && state.gap && socket.current) {
      dispatch({ reset: true });
      socket.current.close();
    }
  }, [watchGaps, state.gap]);

  return { state, link, reconnects };
}

/** The current time in epoch seconds, ticking once a second. */
export function useNow(): number {
  const [now, setNow] = useState(() => Date.now() / 1000);
  useEffect(() => {
    const id = window.setInterval(() => setNow(Date.now() / 1000), 1000);
    return () => window.clearInterval(id);
  }, []);
  return now;
}
