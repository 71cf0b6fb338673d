// #/scenarios/<id>/diff?from=1&to=3: two versions drawn on one canvas, nodes
// and edges added, removed and changed coloured, the changed params listed.
import { useEffect, useMemo, useRef, useState } from "react";
import { api, unwrap, type Schemas } from "../../api/client";
import { FlowCanvas, type CanvasHandle } from "../../canvas/FlowCanvas";
import type { ScenarioDocument } from "../../canvas/model";
import { useStrings } from "../../i18n";
import { ErrorMessage } from "../../shell/ErrorMessage";
import { navigate, type Route } from "../../shell/router";
import { diffDecorations, mergeForDiff, nodeDiffs, show, type Comparison } from "./diff";
import { DIFF } from "./strings";
import "./diff.css";

type Loaded = { older: ScenarioDocument; newer: ScenarioDocument; cmp: Comparison };

export default function DiffPage({ route }: { route: Route }) {
  const t = useStrings(DIFF);
  const id = route.rest[0] ?? "";
  const [versions, setVersions] = useState<Schemas["VersionPublic"][] | null>(null);
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [error, setError] = useState<unknown>(null);
  const canvas = useRef<CanvasHandle>(null);
  const [ready, setReady] = useState("");

  useEffect(() => {
    unwrap(api.GET("/api/v1/scenarios/{scenario_id}/versions", { params: { path: { scenario_id: id } } }))
      .then(setVersions)
      .catch(setError);
  }, [id]);

  const latest = versions?.length ? Math.max(...versions.map((v) => v.version)) : 0;
  const from = Number(route.query.get("from")) || Math.max(1, latest - 1);
  const to = Number(route.query.get("to")) || latest;

  useEffect(() => {
    if (!latest || from === to) return;
    setError(null);
    const doc = (version: number) =>
      unwrap(api.GET("/api/v1/scenarios/{scenario_id}/versions/{version}", { params: { path: { scenario_id: id, version } } }))
        .then((v) => v.document as ScenarioDocument);
    Promise.all([
      doc(from),
      doc(to),
      unwrap(api.GET("/api/v1/scenarios/{scenario_id}/compare", { params: { path: { scenario_id: id }, query: { from, to } } })),
    ])
      .then(([older, newer, cmp]) => setLoaded({ older, newer, cmp }))
      .catch((err) => {
        setLoaded(null);
        setError(err);
      });
  }, [id, from, to, latest]);

  const view = useMemo(() => {
    if (!loaded) return null;
    const { older, newer, cmp } = loaded;
    return { doc: mergeForDiff(older, newer, cmp), decorations: diffDecorations(cmp, { was: t("was") }), nodes: nodeDiffs(older, newer, cmp) };
  }, [loaded, t]);

  const go = (f: number, v: number) => navigate(`/scenarios/${encodeURIComponent(id)}/diff?from=${f}&to=${v}`);
  const cmp = loaded?.cmp;
  const empty = cmp && !cmp.nodes_added.length && !cmp.nodes_removed.length && !cmp.nodes_changed.length
    && !cmp.exits_added.length && !cmp.exits_removed.length && !cmp.exits_changed.length && !cmp.fields_changed.length;

  return (
    <section className="diff-page" data-page="diff">
      <header className="diff-head">
        <h1>{t("title", { id })}</h1>
        {versions && versions.length >= 2 && (
          <form className="diff-pick" onSubmit={(e) => e.preventDefault()}>
            <VersionSelect label={t("from")} value={from} versions={versions} onChange={(v) => go(v, to)} />
            <button type="button" onClick={() => go(to, from)} aria-label={t("swap")}>⇄</button>
            <VersionSelect label={t("to")} value={to} versions={versions} onChange={(v) => go(from, v)} />
          </form>
        )}
        <ul className="diff-legend" aria-label={t("legend")}>
          <li className="lg-added">{t("added")}</li>
          <li className="lg-removed">{t("removed")}</li>
          <li className="lg-changed">{t("changed")}</li>
        </ul>
        <nav className="diff-links">
          <a href={`#/scenarios/${encodeURIComponent(id)}`}>{t("back")}</a>
          <a href={`#/scenarios/${encodeURIComponent(id)}/heatmap`}>{t("heatmap")}</a>
          <a href={`#/console/${encodeURIComponent(id)}`}>{t("console")}</a>
        </nav>
      </header>
      <ErrorMessage error={error} />
      {versions && versions.length < 2 && <p className="notice">{t("needTwo")}</p>}
      {view && cmp && (
        <div className="diff-body">
          <div className="diff-canvas" data-ready={ready === `${from}-${to}`}>
            <FlowCanvas key={`${from}-${to}`} ref={canvas} document={view.doc} readOnly autoLayout="always" decorations={view.decorations}
              className="diff-flow" onRendered={() => setReady(`${from}-${to}`)} />
          </div>
          <aside className="diff-side" aria-label={t("changes")}>
            <h2>{t("changes")}</h2>
            {empty && <p className="muted">{t("noChanges")}</p>}
            {cmp.fields_changed.length > 0 && (
              <p className="muted">{t("docFields")}: <span className="mono">{cmp.fields_changed.join(", ")}</span></p>
            )}
            <ol className="diff-list" data-testid="diff-list">
              {view.nodes.map((n) => (
                <li key={n.nodeId} className={`dl-${n.kind}`} data-node={n.nodeId} data-kind={n.kind}>
                  <button type="button" className="link" onClick={() => canvas.current?.focusNode(n.nodeId)}>
                    <span className="mono">{n.nodeId}</span> <span className="kind">{t(n.kind)}</span>
                  </button>
                  {n.params.length > 0 && n.kind === "changed" && (
                    <table className="param-changes">
                      <tbody>
                        {n.params.map((p) => (
                          <tr key={p.path}>
                            <th className="mono">{p.path}</th>
                            <td className="mono before">{show(p.before)}</td>
                            <td className="mono after">{show(p.after)}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  )}
                </li>
              ))}
            </ol>
            <ExitList title={t("exitsAdded")} kind="added" items={cmp.exits_added} />
            <ExitList title={t("exitsRemoved")} kind="removed" items={cmp.exits_removed} />
            <ExitList title={t("exitsChanged")} kind="changed" items={cmp.exits_changed} />
            {cmp.nodes_moved.length > 0 && (
              <p className="muted small">{t("moved")}: <span className="mono">{cmp.nodes_moved.join(", ")}</span></p>
            )}
          </aside>
        </div>
      )}
    </section>
  );
}

function VersionSelect({ label, value, versions, onChange }: {
  label: string; value: number; versions: Schemas["VersionPublic"][]; onChange: (v: number) => void;
}) {
  const t = useStrings(DIFF);
  return (
    <label className="stack">
      {label}
      <select aria-label={label} value={value} onChange={(e) => onChange(Number(e.target.value))}>
        {[...versions].sort((a, b) => b.version - a.version).map((v) => (
          <option key={v.version} value={v.version}>{t("version", { n: v.version, author: v.author, comment: v.comment || "—" })}</option>
        ))}
      </select>
    </label>
  );
}

function ExitList({ title, kind, items }: { title: string; kind: string; items: Schemas["ExitChange"][] }) {
  if (!items.length) return null;
  return (
    <div className={`exit-list dl-${kind}`}>
      <h3>{title}</h3>
      <ul>
        {items.map((x) => (
          <li key={`${x.node_id}:${x.exit}`} className="mono">
            {x.node_id}.{x.exit} → {kind === "changed" ? `${show(x.from)} → ${show(x.to)}` : show(x.to)}
          </li>
        ))}
      </ul>
    </div>
  );
}
