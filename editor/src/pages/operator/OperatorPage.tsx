// The operator panel (#/operator): set my status, see the call offered to me
// with the caller's data (screen pop), and my calls of the day. My row of the
// wallboard stream tells when a call rings, is answered and ends.
import { useCallback, useEffect, useState, type FormEvent } from "react";
import { ApiError, api, unwrap, type Schemas } from "../../api/client";
import { useLang, useStrings, type Lang } from "../../i18n";
import { ErrorMessage } from "../../shell/ErrorMessage";
import type { Route } from "../../shell/router";
import { atLeast, useSession } from "../../shell/session";
import { clock, duration, since } from "../wallboard/format";
import { pick, useNames, type Names } from "../wallboard/names";
import { useBoard, useNow } from "../wallboard/useBoard";
import { resultName, showValue } from "./results";
import { OPERATOR } from "./strings";
import "./operator.css";

type Key = keyof (typeof OPERATOR)["en"];
type T = (key: Key, params?: Record<string, string | number>) => string;
type Desk = Schemas["DeskState"];
type Cdr = Schemas["CdrPublic"];
type StatusOption = Schemas["StatusOption"];

export default function OperatorPage({ route }: { route: Route }) {
  const t = useStrings(OPERATOR);
  const { me } = useSession();
  const supervisor = atLeast(me, "supervisor");
  const [chosen, setChosen] = useState<string>(route.query.get("id") ?? "");
  const [operators, setOperators] = useState<Schemas["OperatorPublic"][]>([]);

  useEffect(() => {
    if (supervisor) void unwrap(api.GET("/api/v1/operators")).then(setOperators).catch(() => undefined);
  }, [supervisor]);

  const operatorId = me?.operator_id || chosen || (supervisor ? operators[0]?.id ?? "" : "");

  return (
    <section className="operator-page" data-page="operator">
      <header className="op-head">
        <h1>{t("title")}</h1>
        {supervisor && !me?.operator_id && (
          <label className="op-choose">
            {t("chooseOperator")}
            <select aria-label={t("chooseOperator")} value={operatorId} onChange={(e) => setChosen(e.target.value)}>
              {operators.map((o) => (
                <option key={o.id} value={o.id}>{o.id} · {o.name}</option>
              ))}
            </select>
          </label>
        )}
      </header>
      {!operatorId ? (
        supervisor ? null : <p className="notice notice-warn" role="alert">{t("noOperatorId")}</p>
      ) : (
        <Panel key={operatorId} operatorId={operatorId} supervisor={supervisor} t={t} />
      )}
    </section>
  );
}

function Panel({ operatorId, supervisor, t }: { operatorId: string; supervisor: boolean; t: T }) {
  const { lang } = useLang();
  const { state, link } = useBoard(false);
  const now = useNow();
  const names = useNames(supervisor);
  const [me, setMe] = useState<Schemas["OperatorPublic"] | null>(null);
  const [desk, setDesk] = useState<Desk | null>(null);
  const [calls, setCalls] = useState<Cdr[]>([]);
  const [statuses, setStatuses] = useState<StatusOption[]>([]);
  const [error, setError] = useState<unknown>(null);
  const row = state.board?.operators.find((o) => o.id === operatorId) ?? null;
  const path = { params: { path: { operator_id: operatorId } } };

  const loadDesk = useCallback(() => {
    unwrap(api.GET("/api/v1/operators/{operator_id}/call", path)).then(setDesk).catch(setError);
  }, [operatorId]);
  const loadCalls = useCallback(() => {
    unwrap(api.GET("/api/v1/operators/{operator_id}/calls", path)).then(setCalls).catch(setError);
  }, [operatorId]);

  useEffect(() => {
    unwrap(api.GET("/api/v1/operators/{operator_id}", path)).then(setMe).catch(setError);
    unwrap(api.GET("/api/v1/statuses")).then(setStatuses).catch(setError);
  }, [operatorId]);

  // the row's state or call changed: the desk (and, after a call, the day's list) follow
  const rowState = row?.state ?? "idle";
  const rowCall = row?.call_id ?? null;
  useEffect(() => {
    loadDesk();
  }, [loadDesk, rowState, rowCall]);
  useEffect(() => {
    if (rowState === "idle" || rowState === "wrap_up") loadCalls();
  }, [loadCalls, rowState]);
  // while the live stream is down, ask now and then instead
  useEffect(() => {
    if (link === "live") return;
    const id = window.setInterval(loadDesk, 5000);
    return () => window.clearInterval(id);
  }, [link, loadDesk]);

  async function setStatus(status: string, reason: string | null) {
    setError(null);
    try {
      const updated = await unwrap(
        api.PUT("/api/v1/operators/{operator_id}/status", { ...path, body: { status, reason } }),
      );
      setMe(updated);
    } catch (err) {
      setError(err);
    }
  }

  const status = row?.status ?? me?.status ?? "not_available";
  const reason = row ? row.reason : me?.reason ?? null;
  const statusSince = row?.status_since ?? null;

  return (
    <div className="op-panel">
      <div className="op-left">
        <StatusCard status={status} reason={reason} since={since(now, statusSince)} statuses={statuses}
                    lang={lang} t={t} onSet={setStatus} name={me?.name ?? operatorId} id={operatorId}
                    link={link} />
        <ErrorMessage error={error} />
        <CallsToday calls={calls} names={names} lang={lang} t={t} />
      </div>
      <div className="op-right">
        <CallCard desk={desk} state={rowState} stateSince={row?.state_since ?? desk?.state_since ?? null}
                  now={now} names={names} lang={lang} t={t} operatorId={operatorId} />
      </div>
    </div>
  );
}

function statusLabel(id: string, statuses: StatusOption[], lang: Lang): string {
  const found = statuses.find((s) => s.id === id);
  return found ? (lang === "ru" ? found.name_ru : found.name_en) : id;
}

type StatusProps = {
  status: string; reason: string | null; since: number | null; statuses: StatusOption[]; lang: Lang; t: T;
  onSet: (status: string, reason: string | null) => Promise<void>; name: string; id: string; link: string;
};

function StatusCard({ status, reason, since: inStatus, statuses, lang, t, onSet, name, id, link }: StatusProps) {
  const [breakReason, setBreakReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [hint, setHint] = useState<Key | null>(null);
  const custom = statuses.filter((s) => !s.builtin);
  const kind = status === "available" ? "available" : status === "break" ? "break" : status === "not_available" ? "off" : "custom";

  async function run(next: string, why: string | null) {
    setBusy(true);
    await onSet(next, why);
    setBusy(false);
  }
  async function takeBreak(event: FormEvent) {
    event.preventDefault();
    if (!breakReason.trim()) {
      setHint("reasonNeeded");
      return;
    }
    setHint(null);
    await run("break", breakReason.trim());
  }

  return (
    <article className="op-card op-status" aria-labelledby="op-status-title">
      <header>
        <h2 id="op-status-title">{t("myStatus")}</h2>
        <span className={`op-link op-link-${link}`}>{link === "live" ? t("live") : t("reconnecting")}</span>
      </header>
      <div className="op-who">{name} <span className="op-muted">· {id}</span></div>
      <div className={`op-current op-current-${kind}`} data-testid="my-status" data-status={status}>
        <span>{statusLabel(status, statuses, lang)}</span>
        {reason && <span className="op-reason"> · {reason}</span>}
        <span className="op-since">{inStatus === null ? "" : t("inStatus", { t: duration(inStatus) })}</span>
      </div>
      <div className="op-buttons" role="group" aria-label={t("myStatus")}>
        <button type="button" className="op-btn op-btn-available" disabled={busy} aria-pressed={status === "available"}
                onClick={() => void run("available", null)}>{t("setAvailable")}</button>
        <button type="button" className="op-btn op-btn-off" disabled={busy} aria-pressed={status === "not_available"}
                onClick={() => void run("not_available", null)}>{t("setNotAvailable")}</button>
      </div>
      <form className="op-break" onSubmit={takeBreak}>
        <label>
          {t("breakReason")}
          <input value={breakReason} list="op-break-reasons" placeholder={t("breakReasonHint")}
                 onChange={(e) => setBreakReason(e.target.value)} />
        </label>
        <datalist id="op-break-reasons">
          <option value={t("lunch")} /><option value={t("training")} /><option value={t("meeting")} />
        </datalist>
        <button type="submit" className="op-btn op-btn-break" disabled={busy}>{t("startBreak")}</button>
      </form>
      {hint && <p className="op-hint" role="alert">{t(hint)}</p>}
      {custom.length > 0 && (
        <div className="op-custom" role="group" aria-label={t("otherStatuses")}>
          <span className="op-muted">{t("otherStatuses")}:</span>
          {custom.map((s) => (
            <button key={s.id} type="button" disabled={busy} aria-pressed={status === s.id}
                    onClick={() => void run(s.id, null)}>{lang === "ru" ? s.name_ru : s.name_en}</button>
          ))}
        </div>
      )}
    </article>
  );
}

type CallProps = {
  desk: Desk | null; state: string; stateSince: number | null; now: number; names: Names; lang: Lang; t: T; operatorId: string;
};

function CallCard({ desk, state, stateSince, now, names, lang, t, operatorId }: CallProps) {
  const call = desk?.call ?? null;
  if (!call || state === "idle") {
    return (
      <article className="op-card op-call op-call-idle" data-testid="current-call" data-state="idle">
        <h2>{t("idle")}</h2>
        <p className="op-muted">{t("noCall")}</p>
      </article>
    );
  }
  const title = state === "ringing" ? t("incoming") : state === "wrap_up" ? t("wrapUp") : t("onCall");
  const vars = Object.entries(call.variables);
  return (
    <article className={`op-card op-call op-call-${state}`} data-testid="current-call" data-state={state} aria-labelledby="op-call-title">
      <header>
        <h2 id="op-call-title">{title}</h2>
        <span className="op-timer">{duration(since(now, stateSince))}</span>
      </header>
      <div className="op-caller" data-testid="caller">{call.caller || "—"}</div>
      {(state === "talking" || state === "wrap_up") && (
        <CallActions key={call.call_id} operatorId={operatorId} active={state === "talking"} held={desk?.held ?? false} t={t} />
      )}
      <dl className="op-facts">
        <div><dt>{t("called")}</dt><dd>{call.called || "—"}</dd></div>
        <div><dt>{t("queue")}</dt><dd>{call.queue_id ? pick(names.queues[call.queue_id], lang, call.queue_id) : "—"}</dd></div>
        <div><dt>{t("scenario")}</dt><dd>{call.scenario_id || "—"}</dd></div>
        <div><dt>{t("waited")}</dt><dd>{duration(call.wait)}</dd></div>
      </dl>
      {call.screen.length > 0 && (
        <section className="op-screen" aria-label={t("screen")}>
          {call.screen.map((s, i) => <p key={i} data-testid="screen-pop">{s.message}</p>)}
        </section>
      )}
      <h3>{t("variables")}</h3>
      {vars.length === 0 ? (
        <p className="op-muted">{t("noVariables")}</p>
      ) : (
        <table className="op-vars" aria-label={t("variables")}>
          <tbody>
            {vars.map(([k, v]) => (
              <tr key={k} data-testid={`var-${k}`}><th scope="row">{k}</th><td>{showValue(v)}</td></tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>{t("history")}</h3>
      {call.history.length === 0 ? (
        <p className="op-muted" data-testid="no-history">{t("noHistory")}</p>
      ) : (
        <table className="op-table" aria-label={t("history")}>
          <thead><tr><th>{t("when")}</th><th>{t("queue")}</th><th>{t("operator")}</th><th>{t("talk")}</th><th>{t("result")}</th></tr></thead>
          <tbody>
            {call.history.map((h) => (
              <tr key={h.call_id} data-testid="history-call">
                <td>{new Date(h.started_at * 1000).toLocaleString(lang === "ru" ? "ru-RU" : "en-GB", { dateStyle: "short", timeStyle: "short" })}</td>
                <td>{h.queue_id ? pick(names.queues[h.queue_id], lang, h.queue_id) : "—"}</td>
                <td>{h.operator_id ? names.operators[h.operator_id] ?? h.operator_id : "—"}</td>
                <td>{duration(h.talk)}</td>
                <td>{resultName(h.result, lang)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </article>
  );
}

//: the refusals the desk answers with a code, in the operator's language
const REFUSALS: Record<string, Key> = { unknown_target: "unknownTarget", dial_blocked: "dialBlocked", no_call: "noCallNow" };

function refusal(error: unknown): Key | null {
  if (!(error instanceof ApiError) || !Array.isArray(error.problem.errors)) return null;
  const code = (error.problem.errors[0] as { code?: string } | undefined)?.code;
  return code ? REFUSALS[code] ?? null : null;
}

// Hold / resume and hand the caller on: they act on the conversation the
// operator is in, as their phone's buttons would. Handing the caller on ends
// that conversation (wrap-up follows), where the outcome stays in view.
function CallActions({ operatorId, active, held: heldNow, t }: { operatorId: string; active: boolean; held: boolean; t: T }) {
  const [held, setHeld] = useState(heldNow);
  useEffect(() => setHeld(heldNow), [heldNow]);
  const [target, setTarget] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState<string | null>(null);
  const path = { params: { path: { operator_id: operatorId } } };

  async function act(work: () => Promise<void>) {
    setBusy(true);
    setError(null);
    setNote(null);
    try {
      await work();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  const hold = (next: boolean) =>
    act(async () => {
      const r = await unwrap(api.POST("/api/v1/operators/{operator_id}/call/hold", { ...path, body: { held: next } }));
      setHeld(r.held);
    });
  function transfer(event: FormEvent) {
    event.preventDefault();
    const to = target.trim();
    if (!to) {
      setError(null);
      setNote(t("targetNeeded"));
      return;
    }
    void act(async () => {
      const r = await unwrap(api.POST("/api/v1/operators/{operator_id}/call/transfer", { ...path, body: { target: to } }));
      setNote(t("handedOn", { target: r.target }));
    });
  }
  const refused = refusal(error);
  if (!active) {
    // after the conversation (wrap-up): only what became of the last action
    return note ? <p className="op-note op-note-after" role="status" data-testid="action-note">{note}</p> : null;
  }

  return (
    <section className="op-actions" aria-label={t("callActions")}>
      <div className="op-actions-row">
        <button type="button" className={`op-btn op-btn-hold${held ? " op-btn-held" : ""}`} disabled={busy}
                aria-pressed={held} onClick={() => void hold(!held)}>
          {held ? t("resume") : t("hold")}
        </button>
        {held && <span className="op-held" data-testid="on-hold">{t("onHold")}</span>}
      </div>
      <form className="op-transfer" onSubmit={transfer}>
        <label>
          {t("transferTo")}
          <input value={target} placeholder={t("transferHint")} maxLength={64}
                 onChange={(e) => setTarget(e.target.value)} />
        </label>
        <button type="submit" className="op-btn op-btn-transfer" disabled={busy}>{t("transfer")}</button>
      </form>
      {note && <p className="op-note" role="status" data-testid="action-note">{note}</p>}
      {refused ? <p className="op-hint" role="alert" data-testid="action-refused">{t(refused, { target: target.trim() })}</p>
               : <ErrorMessage error={error} />}
    </section>
  );
}

function CallsToday({ calls, names, lang, t }: { calls: Cdr[]; names: Names; lang: Lang; t: T }) {
  const talk = calls.reduce((sum, c) => sum + (c.talk ?? 0), 0);
  return (
    <article className="op-card" aria-labelledby="op-today-title">
      <header>
        <h2 id="op-today-title">{t("callsToday")}</h2>
        <span className="op-muted">{t("answeredToday")}: <strong data-testid="calls-today-count">{calls.length}</strong> · {t("talkToday")}: {duration(talk)}</span>
      </header>
      {calls.length === 0 ? (
        <p className="op-muted">{t("noCallsToday")}</p>
      ) : (
        <table className="op-table" aria-label={t("callsToday")}>
          <thead><tr><th>{t("when")}</th><th>{t("caller")}</th><th>{t("queue")}</th><th>{t("waited")}</th><th>{t("talk")}</th><th>{t("result")}</th></tr></thead>
          <tbody>
            {calls.map((c) => (
              <tr key={c.call_id} data-testid="today-call">
                <td>{clock(c.started_at)}</td>
                <td>{c.caller}</td>
                <td>{c.queue_id ? pick(names.queues[c.queue_id], lang, c.queue_id) : "—"}</td>
                <td>{duration(c.wait)}</td>
                <td>{duration(c.talk)}</td>
                <td>{resultName(c.result, lang)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </article>
  );
}
