// The reports page (#/reports): filters (period, queue, department,
// operator), charts of load, service level, lost calls and transfers, the
// per-operator table against the average, and each report as a CSV file.
import { useEffect, useMemo, useState, type FormEvent, type ReactNode } from "react";
import { api, download, unwrap, type Schemas } from "../../api/client";
import { useLang, useStrings, type Lang } from "../../i18n";
import { ErrorMessage } from "../../shell/ErrorMessage";
import type { Route } from "../../shell/router";
import { duration, percent } from "../wallboard/format";
import { pick, useNames, type Names } from "../wallboard/names";
import { LoadChart, LostChart, TransfersChart, TrendChart, type TrendPoint } from "./Charts";
import {
  checkFilters, loadBars, lostByReason, preset, reportQuery, searchOf, serviceLevel, signed, standsOut, today, totals,
  trendBuckets, type Filters, type Preset, type Query,
} from "./model";
import { REPORTS } from "./strings";
import { pooled, useAsync } from "./useAsync";
import "./reports.css";

type Key = keyof (typeof REPORTS)["en"];
type T = (key: Key, params?: Record<string, string | number>) => string;
type Kind = "queues" | "operators" | "load" | "lost" | "transfers";

/** A report's JSON answer (the operation also offers text/csv, which `format=json` never gives). */
function report<T>(pending: Promise<{ data?: unknown; error?: unknown; response: Response }>): Promise<T> {
  return unwrap(pending) as Promise<T>;
}

const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;

function initialFilters(route: Route): Filters {
  const q = route.query;
  const day = today();
  return {
    from: q.get("from") ?? day, to: q.get("to") ?? day,
    queue: q.get("queue") ?? "", department: q.get("department") ?? "", operator: q.get("operator") ?? "",
  };
}

export default function ReportsPage({ route }: { route: Route }) {
  const t = useStrings(REPORTS);
  const { lang } = useLang();
  const names = useNames(true);
  const [draft, setDraft] = useState<Filters>(() => initialFilters(route));
  const [filters, setFilters] = useState<Filters>(draft);
  const [refresh, setRefresh] = useState(0);
  const [formError, setFormError] = useState<Key | null>(null);
  const [options, setOptions] = useState<{ queues: string[]; operators: { id: string; name: string }[]; targets: Record<string, number> }>({ queues: [], operators: [], targets: {} });

  useEffect(() => {
    void Promise.all([unwrap(api.GET("/api/v1/centre")), unwrap(api.GET("/api/v1/operators"))])
      .then(([centre, ops]) => {
        const queues = (Array.isArray(centre.centre.queues) ? centre.centre.queues : []) as Record<string, unknown>[];
        setOptions({
          queues: queues.map((q) => String(q.id)),
          operators: ops.map((o) => ({ id: o.id, name: o.name })),
          targets: Object.fromEntries(queues.map((q) => [String(q.id), typeof q.service_level_target === "number" ? q.service_level_target : 0.8])),
        });
      })
      .catch(() => undefined);
  }, []);

  const query = useMemo(() => reportQuery(filters), [filters]);
  const key = `${JSON.stringify(query)}#${refresh}`;
  const params = { params: { query } };
  const queues = useAsync(() => report<Schemas["QueuesReport"]>(api.GET("/api/v1/reports/queues", params)), key);
  const operators = useAsync(() => report<Schemas["OperatorsReport"]>(api.GET("/api/v1/reports/operators", params)), key);
  const load = useAsync(() => report<Schemas["LoadReport"]>(api.GET("/api/v1/reports/load", params)), key);
  const lost = useAsync(() => report<Schemas["LostReport"]>(api.GET("/api/v1/reports/lost", params)), key);
  const transfers = useAsync(() => report<Schemas["TransfersReport"]>(api.GET("/api/v1/reports/transfers", params)), key);

  function submit(event: FormEvent) {
    event.preventDefault();
    const problem = checkFilters(draft);
    if (problem) {
      setFormError(problem === "from" ? "badFrom" : problem === "to" ? "badTo" : "badOrder");
      return;
    }
    setFormError(null);
    setFilters(draft);
    setRefresh((n) => n + 1);
  }

  function choose(which: Preset) {
    const next = { ...draft, ...preset(which, today()) };
    setDraft(next);
    setFilters(next);
    setFormError(null);
  }

  async function csv(kind: Kind) {
    await download(`/api/v1/reports/${kind}?${searchOf(query, { format: "csv" })}`, `${kind}_${filters.from}_${filters.to}.csv`);
  }

  const queueName = (id: string | null) => (id ? pick(names.queues[id], lang, id) : "—");
  const operatorName = (id: string | null) => (id ? `${names.operators[id] ?? id}` : "—");

  return (
    <section className="reports" data-page="reports">
      <h1>{t("title")}</h1>
      <form className="rp-filters" onSubmit={submit} aria-label={t("filters")}>
        <label>{t("from")}<input type="date" name="from" aria-label={t("from")} value={draft.from} onChange={(e) => setDraft({ ...draft, from: e.target.value })} /></label>
        <label>{t("to")}<input type="date" name="to" aria-label={t("to")} value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} /></label>
        <label>{t("queue")}
          <select name="queue" aria-label={t("queue")} value={draft.queue} onChange={(e) => setDraft({ ...draft, queue: e.target.value })}>
            <option value="">{t("all")}</option>
            {options.queues.map((q) => <option key={q} value={q}>{queueName(q)}</option>)}
          </select>
        </label>
        <label>{t("department")}
          <select name="department" aria-label={t("department")} value={draft.department} onChange={(e) => setDraft({ ...draft, department: e.target.value })}>
            <option value="">{t("all")}</option>
            {options.queues.map((q) => <option key={q} value={q}>{queueName(q)}</option>)}
          </select>
        </label>
        <label>{t("operator")}
          <select name="operator" aria-label={t("operator")} value={draft.operator} onChange={(e) => setDraft({ ...draft, operator: e.target.value })}>
            <option value="">{t("all")}</option>
            {options.operators.map((o) => <option key={o.id} value={o.id}>{o.id} · {o.name}</option>)}
          </select>
        </label>
        <button type="submit" className="primary">{t("apply")}</button>
        <div className="rp-presets" role="group" aria-label={t("period")}>
          {(["today", "yesterday", "week", "month"] as const).map((p) => (
            <button key={p} type="button" onClick={() => choose(p)}>{t(p)}</button>
          ))}
        </div>
        {formError && <p className="rp-form-error" role="alert">{t(formError)}</p>}
      </form>

      <Headline rows={queues.data?.rows ?? null} t={t} />

      <div className="rp-grid">
        <Section title={t("loadByHour")} kind="load" t={t} onCsv={csv} busy={load.loading} error={load.error}>
          {load.data && (
            <LoadChart testId="load-by-hour" names={{ answered: t("answered"), lost: t("lost"), other: t("other") }}
                       data={loadBars(load.data.by_hour, (i) => String(load.data!.by_hour[i].hour).padStart(2, "0"))} />
          )}
        </Section>
        <Section title={t("loadByWeekday")} kind="load" t={t} onCsv={csv} busy={load.loading} error={load.error}>
          {load.data && (
            <LoadChart testId="load-by-weekday" names={{ answered: t("answered"), lost: t("lost"), other: t("other") }}
                       data={loadBars(load.data.by_weekday, (i) => {
                         const d = load.data!.by_weekday[i].weekday;
                         return d && (WEEKDAYS as readonly string[]).includes(d) ? t(d as Key) : String(d);
                       })} />
          )}
        </Section>
        <Trend filters={filters} refresh={refresh} busyHours={load.data ? load.data.by_hour.filter((r) => r.offered > 0).map((r) => r.hour) : null}
               targets={options.targets} names={names} lang={lang} t={t} />
        <Section title={t("lostByReason")} kind="lost" t={t} onCsv={csv} busy={lost.loading} error={lost.error}>
          {lost.data && (lost.data.rows.length === 0 ? <Empty t={t} /> : (
            <>
              <LostChart data={lostByReason(lost.data.rows).map((r) => ({ label: reasonName(r.reason, t), calls: r.calls }))} />
              <table className="rp-table rp-lost" aria-label={t("lostCalls")}>
                <caption>{t("lostCalls")}</caption>
                <thead><tr><th>{t("started")}</th><th>{t("caller")}</th><th>{t("queue")}</th><th>{t("reason")}</th><th>{t("detail")}</th></tr></thead>
                <tbody>
                  {lost.data.rows.slice(0, 50).map((r) => (
                    <tr key={r.call_id ?? `${r.started}${r.caller}`} data-testid="lost-call">
                      <td>{(r.started ?? "").replace("T", " ").slice(0, 16)}</td><td>{r.caller}</td><td>{queueName(r.queue)}</td>
                      <td>{reasonName(r.reason ?? "other", t)}</td><td>{r.detail}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          ))}
        </Section>
        <Section title={t("transfers")} kind="transfers" t={t} onCsv={csv} busy={transfers.loading} error={transfers.error}>
          {transfers.data && (transfers.data.rows.length === 0 ? <Empty t={t} /> : (
            <>
              <TransfersChart names={{ answered: t("answered"), busy: t("busy"), noAnswer: t("noAnswer"), rejected: t("rejected"), failed: t("failed") }}
                data={transfers.data.rows.map((r) => ({
                  label: r.operator ? operatorName(r.operator) : r.target ?? "—",
                  answered: r.answered, busy: r.busy, no_answer: r.no_answer, rejected: r.rejected, failed: r.failed,
                }))} />
              <table className="rp-table" aria-label={t("transfers")}>
                <thead><tr><th>{t("target_")}</th><th>{t("attempts")}</th><th>{t("answered")}</th><th>{t("successRate")}</th></tr></thead>
                <tbody>
                  {transfers.data.rows.map((r) => (
                    <tr key={r.target ?? ""}><td>{r.operator ? operatorName(r.operator) : r.target}</td><td>{r.attempts}</td><td>{r.answered}</td><td>{percent(r.success_rate)}</td></tr>
                  ))}
                </tbody>
              </table>
            </>
          ))}
        </Section>
      </div>

      <Section title={t("operators")} kind="operators" t={t} onCsv={csv} busy={operators.loading} error={operators.error} wide>
        {operators.data && (operators.data.rows.length === 0 ? <Empty t={t} /> : (
          <OperatorTable rows={operators.data.rows} name={operatorName} t={t} />
        ))}
      </Section>
      <Section title={t("queues")} kind="queues" t={t} onCsv={csv} busy={queues.loading} error={queues.error} wide>
        {queues.data && (queues.data.rows.length === 0 ? <Empty t={t} /> : (
          <table className="rp-table" aria-label={t("queues")} data-testid="queues-table">
            <thead><tr><th>{t("queue")}</th><th>{t("offered")}</th><th>{t("answered")}</th><th>{t("abandoned")}</th><th>{t("serviceLevel")}</th><th>{t("asa")}</th><th>{t("aht")}</th></tr></thead>
            <tbody>
              {queues.data.rows.map((r) => (
                <tr key={r.queue ?? ""}><td>{queueName(r.queue)}</td><td>{r.offered}</td><td>{r.answered}</td><td>{r.abandoned}</td><td>{percent(r.sl_offered)}</td><td>{duration(r.asa)}</td><td>{duration(r.aht)}</td></tr>
              ))}
            </tbody>
          </table>
        ))}
      </Section>
    </section>
  );
}

function reasonName(reason: string, t: T): string {
  const key = `r_${reason}`;
  return key in REPORTS.en ? t(key as Key) : reason;
}

function Empty({ t }: { t: T }) {
  return <p className="rp-empty">{t("nothing")}</p>;
}

type SectionProps = { title: string; kind: Kind; t: T; onCsv: (kind: Kind) => Promise<void>; busy: boolean; error: unknown; wide?: boolean; children: ReactNode };

function Section({ title, kind, t, onCsv, busy, error, wide, children }: SectionProps) {
  const [csvError, setCsvError] = useState<unknown>(null);
  return (
    <article className={`rp-card ${wide ? "rp-wide" : ""}`} aria-label={title} aria-busy={busy}>
      <header>
        <h2>{title}</h2>
        <button type="button" className="rp-csv" aria-label={`${t("csv")}: ${title}`}
                onClick={() => { setCsvError(null); onCsv(kind).catch(setCsvError); }}>⤓ {t("csv")}</button>
      </header>
      <ErrorMessage error={error} />
      <ErrorMessage error={csvError} />
      {busy ? <p className="rp-empty">{t("loading")}</p> : children}
    </article>
  );
}

function Headline({ rows, t }: { rows: Schemas["QueuesReportRow"][] | null; t: T }) {
  const s = rows ? totals(rows) : null;
  const items: [string, string, string][] = [
    ["offered", t("offered"), s ? String(s.offered) : "…"],
    ["answered", t("answered"), s ? String(s.answered) : "…"],
    ["abandoned", t("abandoned"), s ? String(s.abandoned) : "…"],
    ["sl", t("serviceLevel"), s ? percent(s.sl) : "…"],
    ["asa", t("asa"), s ? duration(s.asa) : "…"],
    ["aht", t("aht"), s ? duration(s.aht) : "…"],
  ];
  return (
    <dl className="rp-headline">
      {items.map(([id, label, value]) => (
        <div key={id}><dt>{label}</dt><dd data-testid={`total-${id}`}>{value}</dd></div>
      ))}
    </dl>
  );
}

type TrendProps = { filters: Filters; refresh: number; busyHours: number[] | null; targets: Record<string, number>; names: Names; lang: Lang; t: T };

/** The service level per hour (one day) or per day: the queues report of each bucket. */
function Trend({ filters, refresh, busyHours, targets, names, lang, t }: TrendProps) {
  const buckets = busyHours === null ? null : trendBuckets(filters, busyHours);
  const key = `${JSON.stringify(buckets)}#${filters.queue}#${filters.department}#${refresh}`;
  const run = buckets === null ? null : async () => {
    const base: Query = reportQuery(filters);
    const reports = await pooled(buckets.map((b) => () =>
      report<Schemas["QueuesReport"]>(api.GET("/api/v1/reports/queues", { params: { query: { ...base, from: b.from, to: b.to } } }))));
    return buckets.map((b, i) => {
      const rows = reports[i].rows;
      const point: TrendPoint = { label: b.label, overall: pct(serviceLevel(rows)) };
      for (const r of rows) if (r.queue) point[r.queue] = pct(serviceLevel([r]));
      return point;
    });
  };
  const trend = useAsync(run, key);
  const series = useMemo(() => {
    const seen = new Set<string>();
    for (const p of trend.data ?? []) for (const k of Object.keys(p)) if (k !== "label" && k !== "overall") seen.add(k);
    return ["overall", ...[...seen].sort()];
  }, [trend.data]);
  const chosen = filters.queue || filters.department;
  const shown = series.filter((s) => s === "overall" || !chosen || s === chosen);
  const target = chosen ? targets[chosen] ?? null : sameTarget(targets);
  const lineNames: Record<string, string> = { overall: t("overall"), target: t("target") };
  for (const s of series) if (s !== "overall") lineNames[s] = pick(names.queues[s], lang, s);
  return (
    <article className="rp-card" aria-label={t("slTrend")} aria-busy={trend.loading}>
      <header><h2>{t("slTrend")}</h2></header>
      <ErrorMessage error={trend.error} />
      {trend.loading || busyHours === null ? <p className="rp-empty">{t("loading")}</p>
        : !trend.data || trend.data.length === 0 ? <p className="rp-empty">{t("noTrend")}</p>
        : <TrendChart data={trend.data} series={shown} target={target} names={lineNames} />}
    </article>
  );
}

function pct(share: number | null): number | null {
  return share === null ? null : Math.round(share * 1000) / 10;
}

function sameTarget(targets: Record<string, number>): number | null {
  const values = [...new Set(Object.values(targets))];
  return values.length === 1 ? values[0] : null;
}

function OperatorTable({ rows, name, t }: { rows: Schemas["OperatorsReportRow"][]; name: (id: string | null) => string; t: T }) {
  const vs = (diff: number | null, own: number | null, higherIsBetter: boolean, floor: number, fmt: (v: number | null) => string) => {
    const out = standsOut(diff, own, floor);
    const good = diff !== null && (diff > 0) === higherIsBetter;
    return <span className={`rp-vs ${out ? (good ? "rp-good" : "rp-bad") : ""}`} title={t("vsAvgHint")}>{fmt(diff)}</span>;
  };
  return (
    <table className="rp-table rp-operators" aria-label={t("operators")} data-testid="operators-table">
      <thead>
        <tr>
          <th>{t("operator")}</th><th>{t("offered")}</th><th>{t("answered")}</th><th className="rp-vs-h">{t("vsAvg")}</th>
          <th>{t("missed")}</th><th className="rp-vs-h">{t("vsAvg")}</th><th>{t("answerRate")}</th>
          <th>{t("talkAvg")}</th><th className="rp-vs-h">{t("vsAvg")}</th><th>{t("ringAvg")}</th><th>{t("talkTotal")}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.operator ?? ""} data-testid={`op-row-${r.operator}`}>
            <td>{name(r.operator)} <span className="rp-muted">{r.operator}</span></td>
            <td>{r.offered}</td>
            <td>{r.answered}</td><td>{vs(r.answered_vs_avg, r.answered, true, 1, (v) => signed(v))}</td>
            <td>{r.missed}</td><td>{vs(r.missed_vs_avg, r.missed, false, 1, (v) => signed(v))}</td>
            <td>{percent(r.answer_rate)}</td>
            <td>{duration(r.talk_avg)}</td><td>{vs(r.talk_avg_vs_avg, r.talk_avg, true, 10, (v) => (v === null ? "—" : `${signed(v, 0)} s`))}</td>
            <td>{duration(r.avg_ring_time)}</td>
            <td>{duration(r.talk_total)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
