// Type a number as a line sends it: see it normalised and where it goes, and why.
import { useState, type FormEvent } from "react";
import { api, unwrap, type Schemas } from "../../api/client";
import { useStrings } from "../../i18n";
import { ErrorMessage } from "../../shell/ErrorMessage";
import { NUMBERS } from "./strings";

export function ResolveCard({ lines }: { lines: string[] }) {
  const t = useStrings(NUMBERS);
  const [called, setCalled] = useState("");
  const [caller, setCaller] = useState("");
  const [line, setLine] = useState("");
  const [result, setResult] = useState<Schemas["ResolvePublic"] | null>(null);
  const [error, setError] = useState<unknown>(null);

  async function resolve(event: FormEvent) {
    event.preventDefault();
    setError(null);
    try {
      setResult(await unwrap(api.GET("/api/v1/routing/resolve", {
        params: { query: { called: called.trim(), line: line || undefined, caller: caller.trim() || undefined } },
      })));
    } catch (err) {
      setResult(null);
      setError(err);
    }
  }

  return (
    <form className="card card-accent" onSubmit={resolve} aria-labelledby="try-title">
      <h2 id="try-title">{t("try")}</h2>
      <p className="muted">{t("tryIntro")}</p>
      <div className="inline-form">
        <label className="stack">
          {t("called")}
          <input value={called} onChange={(e) => setCalled(e.target.value)} placeholder="84951230001" maxLength={64} />
        </label>
        <label className="stack">
          {t("line")}
          <select aria-label={t("line")} value={line} onChange={(e) => setLine(e.target.value)}>
            <option value="">{t("anyLine")}</option>
            {lines.map((l) => <option key={l} value={l}>{l}</option>)}
          </select>
        </label>
        <label className="stack">
          {t("caller")}
          <input value={caller} onChange={(e) => setCaller(e.target.value)} placeholder="+70000000000" maxLength={64} />
        </label>
        <button type="submit" className="primary">{t("resolve")}</button>
      </div>
      <ErrorMessage error={error} />
      {result && (
        <dl className="resolved" data-testid="resolved" data-routed={result.routed}>
          <dt>{t("normalised")}</dt>
          <dd>
            <span className="mono">{result.called || "''"}</span> → <strong className="mono" data-testid="called-normalised">{result.called_normalised || "''"}</strong>
            <span className="muted"> · {t("caller")}: <span className="mono">{result.caller_normalised}</span></span>
          </dd>
          <dt>{t("goesTo")}</dt>
          <dd data-testid="goes-to" className={result.routed ? "routed" : "refused"}>
            {result.routed ? (
              <><strong>{result.scenario_id}</strong> v{result.version} <span className="tag">{t(`via_${result.via}` as "via_number")}</span></>
            ) : (
              t("refused")
            )}
          </dd>
          <dt>{t("why")}</dt>
          <dd className="muted">{result.reason}</dd>
        </dl>
      )}
    </form>
  );
}
