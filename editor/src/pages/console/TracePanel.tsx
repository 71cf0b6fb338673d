// What the caller heard, the variables now, and every event of the call.
import { useEffect, useRef, useState } from "react";
import { useStrings } from "../../i18n";
import { speak, speechOffered } from "./speech";
import { CONSOLE } from "./strings";
import { describeEvent, type TraceEvent, type TraceState } from "./trace";

export function Prompts({ trace }: { trace: TraceState }) {
  const t = useStrings(CONSOLE);
  const [canSpeak, setCanSpeak] = useState(false);
  const [aloud, setAloud] = useState(false);
  const played = useRef(0);
  const end = useRef<HTMLLIElement>(null);

  useEffect(() => {
    void speechOffered().then(setCanSpeak);
  }, []);
  useEffect(() => {
    end.current?.scrollIntoView?.({ block: "nearest" });
    const fresh = trace.prompts.filter((p) => p.seq > played.current);
    if (fresh.length) played.current = fresh[fresh.length - 1].seq;
    if (aloud && canSpeak) {
      for (const p of fresh.filter((p) => p.kind === "say")) void speak(p.text, p.language).catch(() => undefined);
    }
  }, [trace.prompts, aloud, canSpeak]);

  return (
    <section className="panel prompts" aria-label={t("prompts")}>
      <header className="panel-head">
        <h2>{t("prompts")}</h2>
        {canSpeak && (
          <label className="check"><input type="checkbox" checked={aloud} onChange={(e) => setAloud(e.target.checked)} /> {t("playPrompts")}</label>
        )}
      </header>
      {trace.prompts.length === 0 ? (
        <p className="muted">{t("noPrompts")}</p>
      ) : (
        <ol className="bubbles" data-testid="prompts">
          {trace.prompts.map((p, i) => (
            <li key={p.seq} ref={i === trace.prompts.length - 1 ? end : undefined} className={`bubble bubble-${p.kind}`}>
              <span className="bubble-node">{p.node}</span>
              <span className="bubble-text">{p.text}</span>
              {canSpeak && p.kind === "say" && (
                <button type="button" className="icon" aria-label={`${t("play")}: ${p.text}`} onClick={() => void speak(p.text, p.language).catch(() => undefined)}>▶</button>
              )}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

export function Variables({ trace }: { trace: TraceState }) {
  const t = useStrings(CONSOLE);
  const names = Object.keys(trace.variables).sort();
  return (
    <section className="panel" aria-label={t("variables")}>
      <h2>{t("variables")}</h2>
      {names.length === 0 ? (
        <p className="muted">{t("noVariables")}</p>
      ) : (
        <table className="vars" data-testid="variables">
          <tbody>
            {names.map((n) => (
              <tr key={n}><th className="mono">{n}</th><td className="mono">{JSON.stringify(trace.variables[n])}</td></tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function TraceList({ events }: { events: TraceEvent[] }) {
  const t = useStrings(CONSOLE);
  const end = useRef<HTMLTableRowElement>(null);
  useEffect(() => {
    end.current?.scrollIntoView?.({ block: "nearest" });
  }, [events.length]);
  return (
    <section className="panel trace" aria-label={t("trace")}>
      <h2>{t("trace")}</h2>
      <div className="trace-scroll">
        <table className="trace-table" data-testid="trace">
          <thead>
            <tr><th>{t("seq")}</th><th>{t("time")}</th><th>{t("event")}</th><th>{t("detail")}</th></tr>
          </thead>
          <tbody>
            {events.map((e, i) => (
              <tr key={e.seq} ref={i === events.length - 1 ? end : undefined} className={`ev ev-${e.event}`} data-event={e.event}>
                <td className="mono muted">{e.seq}</td>
                <td className="mono muted">{typeof e.t === "number" ? e.t.toFixed(2) : ""}</td>
                <td>{e.event}</td>
                <td className="mono">{describeEvent(e)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
