// #/scenarios/<id>/heatmap?from=2026-11-23&to=2026-11-30&version=3: nodes and
// edges coloured by how many calls passed them in the period (the paths
// report), counts on the nodes and on hover, caller hang-ups marked.
import { useEffect, useMemo, useState, type FormEvent } from "react";
import { api, unwrap, type Schemas } from "../../api/client";
import { FlowCanvas } from "../../canvas/FlowCanvas";
import type { ScenarioDocument } from "../../canvas/model";
import { useStrings } from "../../i18n";
import { ErrorMessage } from "../../shell/ErrorMessage";
import { navigate, type Route } from "../../shell/router";
import { endedAt, heatDecorations, LEVELS, sumHeat, type NodeHeat, type PathsRow } from "./heat";
import { HEAT } from "./strings";
import "./heatmap.css";

/** node types where a call is meant to end */
const TERMINAL = new Set(["hangup", "return"]);

const day = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
function defaultPeriod(): { from: string; to: string } {
  const now = new Date();
  const from = new Date(now);
  from.setDate(now.getDate() - 6);
  const to = new Date(now);
  to.setDate(now.getDate() + 1);
  return { from: day(from), to: day(to) };
}

export default function HeatmapPage({ route }: { route: Route }) {
  const t = useStrings(HEAT);
  const id = route.rest[0] ?? "";
  const period = defaultPeriod();
  const from = route.query.get("from") || period.from;
  const to = route.query.get("to") || period.to;
  const version = route.query.get("version") ? Number(route.query.get("version")) : null;
  const [versions, setVersions] = useState<Schemas["VersionPublic"][]>([]);
  const [rows, setRows] = useState<PathsRow[] | null>(null);
  const [doc, setDoc] = useState<ScenarioDocument | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [ready, setReady] = useState(0);
  const [form, setForm] = useState({ from, to, version: version ? String(version) : "" });

  useEffect(() => {
    setForm({ from, to, version: version ? String(version) : "" });
  }, [from, to, version]);
  useEffect(() => {
    unwrap(api.GET("/api/v1/scenarios/{scenario_id}/versions", { params: { path: { scenario_id: id } } }))
      .then(setVersions)
      .catch(setError);
  }, [id]);
  const latest = versions.length ? Math.max(...versions.map((v) => v.version)) : null;
  const drawn = version ?? latest;

  useEffect(() => {
    if (!drawn) return;
    unwrap(api.GET("/api/v1/scenarios/{scenario_id}/versions/{version}", { params: { path: { scenario_id: id, version: drawn } } }))
      .then((v) => setDoc(v.document as ScenarioDocument))
      .catch(setError);
  }, [id, drawn]);

  useEffect(() => {
    setError(null);
    unwrap(api.GET("/api/v1/reports/paths", { params: { query: { scenario: id, from, to } } }))
      .then((r) => setRows(typeof r === "string" ? [] : (r.rows as PathsRow[])))
      .catch((err) => {
        setRows(null);
        setError(err);
      });
  }, [id, from, to]);

  const heat = useMemo(() => (rows ? sumHeat(rows, id, version) : null), [rows, id, version]);
  const decorations = useMemo(
    () => {
      if (!heat) return undefined;
      const ends = new Set((doc?.nodes ?? []).filter((n) => TERMINAL.has(n.type)).map((n) => n.id));
      const labels = { calls: (n: number) => t("calls", { n }), hangups: (n: number) => t("hangups", { n }), ended: (n: number) => t("ended", { n }) };
      return heatDecorations(heat, labels, ends);
    },
    [heat, t, doc],
  );
  const busiest = heat ? [...heat.values()].sort((a, b) => b.entered - a.entered) : [];

  function show(event: FormEvent) {
    event.preventDefault();
    const q = new URLSearchParams({ from: form.from, to: form.to });
    if (form.version) q.set("version", form.version);
    navigate(`/scenarios/${encodeURIComponent(id)}/heatmap?${q}`);
  }

  return (
    <section className="heat-page" data-page="heatmap">
      <header className="heat-head">
        <h1>{t("title", { id })}</h1>
        <form className="heat-form" onSubmit={show} aria-label={t("show")}>
          <label className="stack">{t("from")}<input type="date" aria-label={t("from")} value={form.from} onChange={(e) => setForm({ ...form, from: e.target.value })} required /></label>
          <label className="stack">{t("to")}<input type="date" aria-label={t("to")} value={form.to} onChange={(e) => setForm({ ...form, to: e.target.value })} required /></label>
          <label className="stack">
            {t("version")}
            <select aria-label={t("version")} value={form.version} onChange={(e) => setForm({ ...form, version: e.target.value })}>
              <option value="">{t("allVersions")}</option>
              {[...versions].sort((a, b) => b.version - a.version).map((v) => <option key={v.version} value={v.version}>v{v.version}</option>)}
            </select>
          </label>
          <button type="submit" className="primary">{t("show")}</button>
        </form>
        <div className="heat-legend" aria-label={t("legend")}>
          <span>{t("fewer")}</span>
          {Array.from({ length: LEVELS }, (_, i) => <i key={i} className={`swatch heat-swatch-${i + 1}`} />)}
          <span>{t("more")}</span>
          <span className="hang-key">☎ {t("hungUp")}</span>
          <span className="hang-key">⚠ {t("endedKey")}</span>
        </div>
        <nav className="heat-links">
          <a href={`#/scenarios/${encodeURIComponent(id)}`}>{t("back")}</a>
          <a href={`#/scenarios/${encodeURIComponent(id)}/diff`}>{t("diff")}</a>
          <a href={`#/console/${encodeURIComponent(id)}`}>{t("console")}</a>
        </nav>
      </header>
      <ErrorMessage error={error} />
      <div className="heat-body">
        <div className="heat-canvas" data-ready={ready === drawn}>
          {doc && (
            <FlowCanvas key={drawn} document={doc} readOnly autoLayout="always" decorations={decorations} className="heat-flow"
              onRendered={() => setReady(drawn ?? 0)} />
          )}
          {drawn && <p className="heat-note">{t("pinnedNote", { v: drawn })}</p>}
        </div>
        <aside className="heat-side" aria-label={t("busiest")}>
          <h2>{t("busiest")}</h2>
          {heat && heat.size === 0 && <p className="muted">{t("none")}</p>}
          {busiest.length > 0 && (
            <table className="heat-table" data-testid="heat-table">
              <thead><tr><th>{t("node")}</th><th>{t("entered")}</th><th>☎</th><th>⚠</th></tr></thead>
              <tbody>
                {busiest.map((h) => (
                  <tr key={h.node} data-node={h.node}>
                    <td className="mono">{h.node}</td>
                    <td className="num">{h.entered}</td>
                    <td className="num">{h.hangups || ""}</td>
                    <td className="num">{otherEnds(h, doc) || ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </aside>
      </div>
    </section>
  );
}

function otherEnds(h: NodeHeat, doc: ScenarioDocument | null): number {
  const type = doc?.nodes.find((n) => n.id === h.node)?.type;
  return type && TERMINAL.has(type) ? 0 : Math.max(0, endedAt(h) - h.hangups);
}
