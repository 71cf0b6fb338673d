// Numbers and lines: bind them to scenarios (pinned or latest), the default
// scenario, the normalisation rules, and a test number resolved live.
import { useCallback, useEffect, useState, type FormEvent } from "react";
import { api, unwrap, type Schemas } from "../../api/client";
import { useStrings } from "../../i18n";
import { ErrorMessage } from "../../shell/ErrorMessage";
import type { Route } from "../../shell/router";
import { atLeast, useSession } from "../../shell/session";
import { LinesCard } from "./LinesCard";
import { ResolveCard } from "./ResolveCard";
import { formatRules, parseRules } from "./rules";
import { refText, ScenarioPicker, type Ref } from "./ScenarioPicker";
import { NUMBERS } from "./strings";
import "./numbers.css";

export type Table = {
  default?: { scenario_id: string; version?: number | null } | null;
  numbers?: { number: string; scenario_id: string; version?: number | null }[];
  lines?: LineConf[];
  called?: unknown[];
  caller?: unknown[];
};
export type LineConf = {
  name: string;
  number?: string | null;
  called?: unknown[] | null;
  caller?: unknown[] | null;
  scenario_id?: string | null;
  version?: number | null;
};

export default function NumbersPage(_props: { route: Route }) {
  const t = useStrings(NUMBERS);
  const { me } = useSession();
  const admin = atLeast(me, "admin");
  const [table, setTable] = useState<Table | null>(null);
  const [scenarios, setScenarios] = useState<Schemas["ScenarioSummary"][]>([]);
  const [error, setError] = useState<unknown>(null);

  const reload = useCallback(async () => {
    try {
      const [routing, list] = await Promise.all([
        unwrap(api.GET("/api/v1/routing")),
        unwrap(api.GET("/api/v1/scenarios")),
      ]);
      setTable(routing.table as Table);
      setScenarios(list);
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, []);
  useEffect(() => {
    void reload();
  }, [reload]);

  return (
    <section className="numbers-page" data-page="numbers">
      <header className="numbers-head">
        <h1>{t("title")}</h1>
        <p className="muted">{t("intro")}</p>
        {!admin && <p className="notice">{t("adminOnly")}</p>}
      </header>
      <ErrorMessage error={error} />
      {table && (
        <div className="numbers-grid">
          <div className="numbers-col">
            <NumbersCard table={table} scenarios={scenarios} admin={admin} changed={reload} />
            <LinesCard table={table} scenarios={scenarios} admin={admin} changed={reload} />
          </div>
          <div className="numbers-col">
            <ResolveCard lines={(table.lines ?? []).map((l) => l.name)} />
            <DefaultCard table={table} scenarios={scenarios} admin={admin} changed={reload} />
            <RulesCard table={table} admin={admin} changed={reload} />
          </div>
        </div>
      )}
    </section>
  );
}

type CardProps = { table: Table; scenarios: Schemas["ScenarioSummary"][]; admin: boolean; changed: () => Promise<void> };

function NumbersCard({ table, scenarios, admin, changed }: CardProps) {
  const t = useStrings(NUMBERS);
  const [number, setNumber] = useState("");
  const [ref, setRef] = useState<Ref>({ scenario_id: null, version: null });
  const [replace, setReplace] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function act(work: () => Promise<unknown>) {
    setBusy(true);
    setError(null);
    try {
      await work();
      await changed();
      return true;
    } catch (err) {
      setError(err);
      return false;
    } finally {
      setBusy(false);
    }
  }

  async function bind(event: FormEvent) {
    event.preventDefault();
    if (!ref.scenario_id) return;
    const ok = await act(() =>
      unwrap(api.PUT("/api/v1/routing/numbers/{number}", {
        params: { path: { number: number.trim() } },
        body: { scenario_id: ref.scenario_id!, version: ref.version, replace },
      })),
    );
    if (ok) {
      setNumber("");
      setReplace(false);
    }
  }

  const rows = table.numbers ?? [];
  return (
    <div className="card" aria-labelledby="numbers-title">
      <h2 id="numbers-title">{t("numbers")}</h2>
      {rows.length === 0 ? (
        <p className="muted">{t("noNumbers")}</p>
      ) : (
        <table className="numbers-table" data-testid="number-bindings">
          <thead>
            <tr><th>{t("number")}</th><th>{t("scenario")}</th><th>{t("version")}</th><th><span className="sr-only">{t("actions")}</span></th></tr>
          </thead>
          <tbody>
            {rows.map((b) => (
              <tr key={b.number} data-number={b.number}>
                <td className="mono">{b.number}</td>
                <td>{b.scenario_id}</td>
                <td>{b.version ? t("pinned", { n: b.version }) : <span className="tag">{t("latest")}</span>}</td>
                <td className="row-actions">
                  {admin && (
                    <button type="button" disabled={busy} aria-label={`${t("unbind")} ${b.number}`}
                      onClick={() => void act(() => unwrap(api.DELETE("/api/v1/routing/numbers/{number}", { params: { path: { number: b.number } } })))}>
                      {t("unbind")}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {admin && (
        <form className="inline-form" onSubmit={bind} aria-label={t("bind")}>
          <label>
            <span className="sr-only">{t("number")}</span>
            <input aria-label={t("number")} placeholder="+74951230001" value={number} onChange={(e) => setNumber(e.target.value)} required maxLength={64} />
          </label>
          <ScenarioPicker idPrefix="bind" scenarios={scenarios} value={ref} onChange={setRef} />
          <button type="submit" className="primary" disabled={busy || !ref.scenario_id || !number.trim()}>{t("bind")}</button>
          <label className="check">
            <input type="checkbox" checked={replace} onChange={(e) => setReplace(e.target.checked)} /> {t("replace")}
          </label>
        </form>
      )}
      <ErrorMessage error={error} />
    </div>
  );
}

function DefaultCard({ table, scenarios, admin, changed }: CardProps) {
  const t = useStrings(NUMBERS);
  const current: Ref = { scenario_id: table.default?.scenario_id ?? null, version: table.default?.version ?? null };
  const [ref, setRef] = useState<Ref>(current);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  useEffect(() => {
    setRef({ scenario_id: table.default?.scenario_id ?? null, version: table.default?.version ?? null });
  }, [table]);

  async function save(event: FormEvent) {
    event.preventDefault();
    setError(null);
    setDone(false);
    try {
      await unwrap(api.PUT("/api/v1/routing/default", { body: { scenario_id: ref.scenario_id, version: ref.version } }));
      await changed();
      setDone(true);
    } catch (err) {
      setError(err);
    }
  }

  return (
    <form className="card" onSubmit={save} aria-labelledby="default-title">
      <h2 id="default-title">{t("default")}</h2>
      <p className="muted" data-testid="default-now">{refText(table.default, t("latest"))}</p>
      {admin && (
        <div className="inline-form">
          <ScenarioPicker idPrefix="default" scenarios={scenarios} value={ref} onChange={setRef} noneLabel={t("defaultNone")} />
          <button type="submit" className="primary">{t("save")}</button>
          {done && <span className="ok" role="status">{t("saved")}</span>}
        </div>
      )}
      <ErrorMessage error={error} />
    </form>
  );
}

function RulesCard({ table, admin, changed }: Omit<CardProps, "scenarios">) {
  const t = useStrings(NUMBERS);
  const [called, setCalled] = useState(formatRules(table.called));
  const [caller, setCaller] = useState(formatRules(table.caller));
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  useEffect(() => {
    setCalled(formatRules(table.called));
    setCaller(formatRules(table.caller));
  }, [table]);

  async function save(event: FormEvent) {
    event.preventDefault();
    setError(null);
    setDone(false);
    try {
      const body = { called: parseRules(called), caller: parseRules(caller) };
      await unwrap(api.PUT("/api/v1/routing/rules", { body }));
      await changed();
      setDone(true);
    } catch (err) {
      setError(err);
    }
  }

  return (
    <form className="card" onSubmit={save} aria-labelledby="rules-title">
      <h2 id="rules-title">{t("rulesTitle")}</h2>
      <p className="muted">{t("rulesIntro")}</p>
      <label className="stack">
        {t("calledRules")}
        <textarea rows={3} className="mono" value={called} onChange={(e) => setCalled(e.target.value)} readOnly={!admin} placeholder="8XXXXXXXXXX -> +7XXXXXXXXXX" />
      </label>
      <label className="stack">
        {t("callerRules")}
        <textarea rows={3} className="mono" value={caller} onChange={(e) => setCaller(e.target.value)} readOnly={!admin} />
      </label>
      <p className="hint">{t("rulesHint")}</p>
      {admin && (
        <div className="inline-form">
          <button type="submit" className="primary">{t("save")}</button>
          {done && <span className="ok" role="status">{t("saved")}</span>}
        </div>
      )}
      <ErrorMessage error={error} />
    </form>
  );
}
