// Lines (trunks, analog ports): their number, own rules and scenario.
import { useState, type FormEvent } from "react";
import { api, unwrap, type Schemas } from "../../api/client";
import { useStrings } from "../../i18n";
import { ErrorMessage } from "../../shell/ErrorMessage";
import type { LineConf, Table } from "./NumbersPage";
import { formatRules, parseRules } from "./rules";
import { refText, ScenarioPicker, type Ref } from "./ScenarioPicker";
import { NUMBERS } from "./strings";

type Props = { table: Table; scenarios: Schemas["ScenarioSummary"][]; admin: boolean; changed: () => Promise<void> };

export function LinesCard({ table, scenarios, admin, changed }: Props) {
  const t = useStrings(NUMBERS);
  const [editing, setEditing] = useState<LineConf | null>(null);
  const [error, setError] = useState<unknown>(null);
  const lines = table.lines ?? [];

  async function remove(name: string) {
    setError(null);
    try {
      await unwrap(api.DELETE("/api/v1/routing/lines/{line}", { params: { path: { line: name } } }));
      if (editing?.name === name) setEditing(null);
      await changed();
    } catch (err) {
      setError(err);
    }
  }

  return (
    <div className="card" aria-labelledby="lines-title">
      <h2 id="lines-title">{t("lines")}</h2>
      {lines.length === 0 ? (
        <p className="muted">{t("noLines")}</p>
      ) : (
        <table className="numbers-table" data-testid="lines">
          <thead>
            <tr>
              <th>{t("line")}</th><th>{t("lineNumber")}</th><th>{t("scenario")}</th><th>{t("calledRules")}</th>
              <th><span className="sr-only">{t("actions")}</span></th>
            </tr>
          </thead>
          <tbody>
            {lines.map((l) => (
              <tr key={l.name} data-line={l.name}>
                <td className="mono">{l.name}</td>
                <td className="mono">{l.number ?? t("none")}</td>
                <td>{refText(l, t("latest"))}</td>
                <td className="mono small">{l.called == null ? <span className="muted">{t("tableRules")}</span> : formatRules(l.called) || "∅"}</td>
                <td className="row-actions">
                  {admin && (
                    <>
                      <button type="button" onClick={() => setEditing(l)} aria-label={`${t("edit")} ${l.name}`}>{t("edit")}</button>
                      <button type="button" onClick={() => void remove(l.name)} aria-label={`${t("deleteLine")} ${l.name}`}>{t("deleteLine")}</button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {admin && !editing && (
        <button type="button" onClick={() => setEditing({ name: "" })}>{t("newLine")}</button>
      )}
      {admin && editing && (
        <LineForm
          key={editing.name || "new"}
          line={editing}
          scenarios={scenarios}
          done={async () => {
            setEditing(null);
            await changed();
          }}
          cancel={() => setEditing(null)}
        />
      )}
      <ErrorMessage error={error} />
    </div>
  );
}

function LineForm({ line, scenarios, done, cancel }: {
  line: LineConf; scenarios: Schemas["ScenarioSummary"][]; done: () => Promise<void>; cancel: () => void;
}) {
  const t = useStrings(NUMBERS);
  const isNew = !line.name;
  const [name, setName] = useState(line.name);
  const [number, setNumber] = useState(line.number ?? "");
  const [ref, setRef] = useState<Ref>({ scenario_id: line.scenario_id ?? null, version: line.version ?? null });
  const [ownCalled, setOwnCalled] = useState(line.called != null);
  const [called, setCalled] = useState(formatRules(line.called));
  const [ownCaller, setOwnCaller] = useState(line.caller != null);
  const [caller, setCaller] = useState(formatRules(line.caller));
  const [error, setError] = useState<unknown>(null);

  async function save(event: FormEvent) {
    event.preventDefault();
    setError(null);
    try {
      await unwrap(api.PUT("/api/v1/routing/lines/{line}", {
        params: { path: { line: name.trim() } },
        body: {
          number: number.trim() || null,
          called: ownCalled ? parseRules(called) : null,
          caller: ownCaller ? parseRules(caller) : null,
          scenario_id: ref.scenario_id,
          version: ref.version,
          replace: true,
        },
      }));
      await done();
    } catch (err) {
      setError(err);
    }
  }

  return (
    <form className="line-form" onSubmit={save} aria-label={isNew ? t("newLine") : `${t("line")} ${line.name}`}>
      <div className="inline-form">
        <label className="stack">
          {t("line")}
          <input value={name} onChange={(e) => setName(e.target.value)} readOnly={!isNew} required placeholder="trunk-1" />
        </label>
        <label className="stack">
          {t("lineNumber")}
          <input value={number} onChange={(e) => setNumber(e.target.value)} placeholder="+78125550002" />
        </label>
        <span className="stack">
          {t("scenario")}
          <ScenarioPicker idPrefix="line" scenarios={scenarios} value={ref} onChange={setRef} noneLabel={t("none")} />
        </span>
      </div>
      <RulesBox label={t("calledRules")} own={ownCalled} setOwn={setOwnCalled} text={called} setText={setCalled} />
      <RulesBox label={t("callerRules")} own={ownCaller} setOwn={setOwnCaller} text={caller} setText={setCaller} />
      <p className="hint">{t("rulesHint")}</p>
      <div className="inline-form">
        <button type="submit" className="primary">{t("saveLine")}</button>
        <button type="button" onClick={cancel}>✕</button>
      </div>
      <ErrorMessage error={error} />
    </form>
  );
}

function RulesBox({ label, own, setOwn, text, setText }: {
  label: string; own: boolean; setOwn: (v: boolean) => void; text: string; setText: (v: string) => void;
}) {
  const t = useStrings(NUMBERS);
  return (
    <fieldset className="rules-box">
      <legend>{label}</legend>
      <label className="check">
        <input type="checkbox" checked={own} onChange={(e) => setOwn(e.target.checked)} /> {t("ownRules")}
      </label>
      {own && (
        <textarea aria-label={label} rows={2} className="mono" value={text} onChange={(e) => setText(e.target.value)} placeholder="8XXXXXXXXXX -> +7XXXXXXXXXX" />
      )}
    </fieldset>
  );
}
