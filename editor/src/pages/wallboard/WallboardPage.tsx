// The supervisor's wallboard (#/wallboard): queues with their service level,
// waiting callers and counters; operators with status, state and times;
// alerts on top. Live over the WebSocket; times tick in the browser.
import { useEffect, useState } from "react";
import { useLang, useStrings } from "../../i18n";
import type { Route } from "../../shell/router";
import type { Alert, OperatorRow, QueueRow } from "./board";
import { clock, duration, percent, since, waitHealth } from "./format";
import { alertText } from "./alerts";
import { Gauge } from "./Gauge";
import { pick, useNames, type Names } from "./names";
import { WALLBOARD } from "./strings";
import { useBoard, useNow, type Link } from "./useBoard";
import "./wallboard.css";

type Key = keyof (typeof WALLBOARD)["en"];
type T = (key: Key, params?: Record<string, string | number>) => string;

export default function WallboardPage(_props: { route: Route }) {
  const t = useStrings(WALLBOARD);
  const { lang } = useLang();
  const { state, link } = useBoard(true);
  const names = useNames(true);
  const now = useNow();
  const board = state.board;
  const [full, setFull] = useState(false);

  useEffect(() => {
    const changed = () => setFull(document.fullscreenElement !== null);
    document.addEventListener("fullscreenchange", changed);
    return () => document.removeEventListener("fullscreenchange", changed);
  }, []);

  function toggleFull() {
    if (document.fullscreenElement) void document.exitFullscreen();
    else void document.querySelector(".wallboard")?.requestFullscreen?.();
  }

  return (
    <section className="wallboard" data-page="wallboard" aria-labelledby="wb-title">
      <header className="wb-head">
        <h1 id="wb-title">{t("title")}</h1>
        <LinkState link={link} t={t} />
        {state.resyncs > 0 && <span className="wb-muted" data-testid="wb-resyncs">{t("resyncs", { n: state.resyncs })}</span>}
        <span className="wb-spacer" />
        <span className="wb-clock" aria-label="clock">{clock(now, true)}</span>
        <button type="button" onClick={toggleFull}>{full ? t("exitFullscreen") : t("fullscreen")}</button>
      </header>

      <Alerts alerts={state.alerts} names={names} now={now} t={t} lang={lang} />

      {!board ? (
        <p className="wb-empty">{t("connecting")}</p>
      ) : (
        <>
          <h2 className="wb-section">{t("queues")}</h2>
          {board.queues.length === 0 ? (
            <p className="wb-empty">{t("noQueues")}</p>
          ) : (
            <div className="wb-queues">
              {board.queues.map((q) => (
                <QueueCard key={q.id} q={q} name={pick(names.queues[q.id], lang, q.name || q.id)} now={now} t={t} />
              ))}
            </div>
          )}
          <h2 className="wb-section">{t("operators")}</h2>
          <Operators rows={board.operators} names={names} now={now} t={t} lang={lang} />
        </>
      )}
    </section>
  );
}

function LinkState({ link, t }: { link: Link; t: T }) {
  const text = link === "live" ? t("live") : link === "connecting" ? t("connecting") : link === "refused" ? t("refused") : t("reconnecting");
  return (
    <span className={`wb-link wb-link-${link}`} role="status" data-testid="wb-link" data-link={link}>
      <span className="wb-dot" aria-hidden="true" />
      {text}
    </span>
  );
}

function Alerts({ alerts, names, now, t, lang }: { alerts: Alert[]; names: Names; now: number; t: T; lang: "ru" | "en" }) {
  if (alerts.length === 0) return null;
  return (
    <div className="wb-alerts" role="alert" aria-label={t("alerts")} data-testid="wb-alerts">
      {alerts.map((a) => {
        const queue = a.queue ? pick(names.queues[a.queue], lang, a.queue) : "";
        return (
          <div key={a.id} className={`wb-alert wb-alert-${a.kind}`} data-alert={a.id}>
            <span className="wb-alert-icon" aria-hidden="true">⚠</span>
            <span className="wb-alert-text">{alertText(a, queue, now, t)}</span>
            <span className="wb-alert-time">{t("alertSince", { t: clock(a.since ?? a.at) })}</span>
          </div>
        );
      })}
    </div>
  );
}

function QueueCard({ q, name, now, t }: { q: QueueRow; name: string; now: number; t: T }) {
  const longest = since(now, q.longest_wait_since);
  const target = percent(q.service_level_target);
  return (
    <article className="wb-queue" aria-label={name} data-testid={`queue-${q.id}`}>
      <header>
        <h3>{name}</h3>
        <span className="wb-muted">{t("threshold", { s: q.threshold })}</span>
      </header>
      <div className="wb-queue-top">
        <div className="wb-gauge">
          <Gauge level={q.service_level} target={q.service_level_target}
                 label={t("gaugeLabel", { value: percent(q.service_level), target })} />
          <div className="wb-muted">{q.service_level === null ? t("noCalls") : `${t("serviceLevel")} · ${t("target", { target })}`}</div>
        </div>
        <div className="wb-big">
          <div className={`wb-waiting ${q.waiting.length ? "has" : ""}`} data-testid="waiting-count">{q.waiting.length}</div>
          <div className="wb-label">{t("waiting")}</div>
          <div className={`wb-longest wb-${longest === null ? "none" : waitHealth(longest, q.threshold)}`}>{duration(longest)}</div>
          <div className="wb-label">{t("longestWait")}</div>
        </div>
      </div>
      <dl className="wb-counters">
        <Counter label={t("offered")} value={q.offered} id="offered" />
        <Counter label={t("answered")} value={q.answered} id="answered" />
        <Counter label={t("abandoned")} value={q.abandoned} id="abandoned" bad={q.abandoned > 0} />
        <Counter label={t("lostOther")} value={q.lost_other} id="lost_other" />
        <Counter label={t("avgWait")} value={duration(q.avg_wait)} id="avg_wait" />
        <Counter label={t("avgTalk")} value={duration(q.avg_talk)} id="avg_talk" />
        {(q.overflow_out > 0 || q.overflow_in > 0) && (
          <Counter label={t("overflow")} value={`${q.overflow_out} / ${q.overflow_in}`} id="overflow" />
        )}
        <Counter label={t("loggedIn")} value={q.logged_in} id="logged_in" />
        <Counter label={t("available")} value={q.available} id="available" />
      </dl>
      {q.waiting.length === 0 ? (
        <p className="wb-muted wb-nobody">{t("nobodyWaits")}</p>
      ) : (
        <table className="wb-waiting-list" aria-label={`${name}: ${t("waiting")}`}>
          <thead>
            <tr><th>{t("position")}</th><th>{t("caller")}</th><th>{t("waited")}</th></tr>
          </thead>
          <tbody>
            {q.waiting.map((w) => {
              const waited = since(now, w.since) ?? 0;
              return (
                <tr key={w.call_id} data-testid="waiting-call">
                  <td>{w.position}{w.priority > 0 ? " ★" : ""}</td>
                  <td>{w.caller || "—"}</td>
                  <td className={`wb-${waitHealth(waited, q.threshold)}`}>{duration(waited)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </article>
  );
}

function Counter({ label, value, id, bad }: { label: string; value: number | string; id: string; bad?: boolean }) {
  return (
    <div className={bad ? "bad" : ""}>
      <dt>{label}</dt>
      <dd data-testid={`counter-${id}`}>{value}</dd>
    </div>
  );
}

export function statusName(row: Pick<OperatorRow, "status">, names: Names, lang: "ru" | "en", t: T): string {
  const s = row.status ?? "not_available";
  const builtin = `st_${s}` as const;
  if (builtin in WALLBOARD.en) return t(builtin as Key);
  return pick(names.statuses[s], lang, s);
}

/** The operator's SIP phone: registered (with its number of devices) or unreachable. */
function PhoneBadge({ phone, t }: { phone: OperatorRow["phone"]; t: T }) {
  if (!phone) return <span className="wb-muted" data-testid="op-phone" data-phone="none" title={t("noSipPhone")} aria-label={t("noSipPhone")}>—</span>;
  const agent = phone.user_agent ? ` · ${phone.user_agent}` : "";
  return (
    <span className={`wb-phone wb-phone-${phone.registered ? "on" : "off"}`} data-testid="op-phone"
          data-phone={phone.registered ? "registered" : "unregistered"} data-bindings={phone.bindings}
          title={t("phoneTitle", { t: clock(phone.since), agent })}>
      <span className="wb-phone-icon" aria-hidden="true">{phone.registered ? "☎" : "✕"}</span>
      {phone.registered ? t("phoneRegistered") : t("phoneUnreachable")}
      {phone.registered && phone.bindings > 1 && <span className="wb-phone-count"> · {t("phoneBindings", { n: phone.bindings })}</span>}
    </span>
  );
}

function Operators({ rows, names, now, t, lang }: { rows: OperatorRow[]; names: Names; now: number; t: T; lang: "ru" | "en" }) {
  if (rows.length === 0) return <p className="wb-empty">{t("noOperators")}</p>;
  // the phone column only where the centre has SIP phones
  const phones = rows.some((op) => op.phone);
  return (
    <table className="wb-operators" aria-label={t("operators")}>
      <thead>
        <tr>
          <th>{t("operator")}</th>{phones && <th>{t("phone")}</th>}<th>{t("status")}</th><th>{t("inStatus")}</th><th>{t("state")}</th>
          <th>{t("inState")}</th><th>{t("lastCall")}</th><th>{t("answeredToday")}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((op) => {
          const status = op.status ?? "not_available";
          const unreachable = op.reachable === false;
          const kind = unreachable ? "unreachable" : !op.logged_in ? "out" : op.available ? "available" : status === "break" ? "break" : status === "not_available" ? "off" : "custom";
          const lastAgo = since(now, op.last_call_end);
          const reason = op.reason === "phone_unregistered" || op.reason === "removed" ? null : op.reason;
          return (
            <tr key={op.id} data-testid={`operator-${op.id}`} data-status={status} data-state={op.state}
                data-reachable={unreachable ? "no" : "yes"} className={`wb-op wb-op-${kind}`}>
              <td><span className="wb-op-name">{names.operators[op.id] ?? op.id}</span> <span className="wb-muted">{op.id}</span></td>
              {phones && <td><PhoneBadge phone={op.phone} t={t} /></td>}
              <td>
                <span className={`wb-status wb-status-${kind}`} data-testid="op-status">
                  {unreachable ? t("phoneUnreachable") : op.logged_in ? statusName(op, names, lang, t) : t("loggedOut")}
                </span>
                {reason && <span className="wb-reason"> · {reason}</span>}
              </td>
              <td className="wb-num">{duration(since(now, op.status_since))}</td>
              <td>
                <span className={`wb-state wb-state-${op.state}`} data-testid="op-state">{t((op.state in WALLBOARD.en ? op.state : "idle") as Key)}</span>
              </td>
              <td className="wb-num">{op.state === "idle" ? "" : duration(since(now, op.state_since))}</td>
              <td>{op.last_call_end === null ? t("never") : `${clock(op.last_call_end)} · ${t("ago", { t: duration(lastAgo) })}`}</td>
              <td className="wb-num">{op.answered_today}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
