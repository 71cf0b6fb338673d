// The scenario editor (#/scenarios/<id>): palette, canvas, inspector,
// variables, live validation, undo/redo, copy/paste, save, publish, and the
// unsaved drawing kept in localStorage across a reload.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { api, ApiError, download, unwrap, type Schemas } from "../../../api/client";
import { componentMap } from "../../../canvas/convert";
import { FlowCanvas, type CanvasHandle } from "../../../canvas/FlowCanvas";
import { freshId, type NodeDoc, type ScenarioDocument, type VariableDoc } from "../../../canvas/model";
import { preloadLayout } from "../../../canvas/layout";
import { addNode, connect, disconnect, pasteNodes, removeNodes, renameNode, updateNode } from "../../../canvas/ops";
import { useCatalogue } from "../../../canvas/useComponents";
import { useStrings } from "../../../i18n";
import { ErrorMessage } from "../../../shell/ErrorMessage";
import { atLeast, useSession } from "../../../shell/session";
import { dropDraft, readClipboard, readDraft, writeClipboard, writeDraft } from "./draft";
import { findingDecorations, findingTarget, type Finding } from "./findings";
import { FindingsPanel } from "./FindingsPanel";
import { NamesContext } from "./ExpressionInput";
import { push, redo, start, undo, type History } from "./history";
import { Inspector } from "./Inspector";
import { Palette } from "./Palette";
import { EDITOR_STRINGS } from "./strings";
import { VariablesPanel } from "./VariablesPanel";
import "./editor.css";

type ScenarioPublic = Schemas["ScenarioPublic"];
type Conflict = { theirs: ScenarioPublic; comparing: boolean };

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export default function EditorPage({ scenarioId }: { scenarioId: string }) {
  const t = useStrings(EDITOR_STRINGS);
  const { me } = useSession();
  const readOnly = !atLeast(me, "admin");
  const { catalogue, error: catalogueError } = useCatalogue();
  const [loadError, setLoadError] = useState<unknown>(null);
  const [history, setHistory] = useState<History<ScenarioDocument> | null>(null);
  const [revision, setRevision] = useState(0);
  const [savedDoc, setSavedDoc] = useState<ScenarioDocument | null>(null);
  const [restored, setRestored] = useState<{ time: number; mine: number; theirs: number } | null>(null);
  const [selection, setSelection] = useState<{ nodes: string[]; edges: string[] }>({ nodes: [], edges: [] });
  const [findings, setFindings] = useState<Finding[] | null>(null);
  const [showFindings, setShowFindings] = useState(false);
  const [currentFinding, setCurrentFinding] = useState(0);
  const [status, setStatus] = useState("");
  const [actionError, setActionError] = useState<unknown>(null);
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const [publishing, setPublishing] = useState(false);
  const [comment, setComment] = useState("");
  const canvas = useRef<CanvasHandle>(null);
  const area = useRef<HTMLDivElement>(null);
  const root = useRef<HTMLDivElement>(null);

  const doc = history?.present ?? null;
  const byType = useMemo(() => componentMap(catalogue?.components), [catalogue]);

  // ---- load (server draft, or the local one if it differs) --------------------------
  useEffect(() => {
    if (!readOnly) setTimeout(preloadLayout, 500); // ELK's chunk, before the first Auto-layout
    let live = true;
    unwrap(api.GET("/api/v1/scenarios/{scenario_id}", { params: { path: { scenario_id: scenarioId } } })).then(
      (s) => {
        if (!live) return;
        const server = s.document as ScenarioDocument;
        const local = readDraft(scenarioId);
        setSavedDoc(server);
        if (local && !same(local.document, server)) {
          setHistory(start(local.document));
          setRevision(local.revision);
          setRestored({ time: local.savedAt, mine: local.revision, theirs: s.revision });
        } else {
          setHistory(start(server));
          setRevision(s.revision);
        }
      },
      (err: unknown) => live && setLoadError(err),
    );
    return () => {
      live = false;
    };
  }, [scenarioId, readOnly]);

  const dirty = doc !== null && savedDoc !== null && !same(doc, savedDoc);

  // ---- the local draft ------------------------------------------------------------------
  useEffect(() => {
    if (!doc || readOnly) return;
    const timer = setTimeout(() => {
      if (dirty) writeDraft(scenarioId, { revision, document: doc, savedAt: Date.now() });
      else dropDraft(scenarioId);
    }, 200);
    return () => clearTimeout(timer);
  }, [doc, dirty, revision, scenarioId, readOnly]);

  // ---- live validation ------------------------------------------------------------------
  const asked = useRef(0);
  useEffect(() => {
    if (!doc) return;
    const n = ++asked.current;
    const timer = setTimeout(() => {
      unwrap(api.POST("/api/v1/scenarios/validate", { body: { document: doc } })).then(
        (report) => n === asked.current && setFindings(report.findings),
        () => undefined, // the check is a help; saving still works
      );
    }, 350);
    return () => clearTimeout(timer);
  }, [doc]);
  const errors = findings?.filter((f) => f.severity === "error").length ?? 0;
  const warnings = (findings?.length ?? 0) - errors;
  const decorations = useMemo(() => (doc && findings ? findingDecorations(findings, doc) : undefined), [findings, doc]);

  // ---- edits ------------------------------------------------------------------------------
  const change = useCallback(
    (next: ScenarioDocument, key?: string) => {
      if (readOnly) return;
      setHistory((h) => (h ? push(h, next, key) : h));
      setStatus("");
    },
    [readOnly],
  );
  const onCanvasChange = useCallback((next: ScenarioDocument) => change(next), [change]);

  const addAt = useCallback(
    (type: string, position?: { x: number; y: number }) => {
      if (!doc || readOnly) return;
      let at = position;
      if (!at) {
        const rect = area.current?.getBoundingClientRect();
        at = canvas.current?.screenToFlow({ x: (rect?.left ?? 0) + (rect?.width ?? 600) / 2, y: (rect?.top ?? 0) + (rect?.height ?? 400) / 2 }) ?? { x: 0, y: 0 };
      }
      const id = freshId(type, new Set(doc.nodes.map((n) => n.id)));
      const node: NodeDoc = { id, type, params: {}, exits: {}, ui: { x: Math.round(at.x - 100), y: Math.round(at.y - 30) } };
      change(addNode(doc, node));
      canvas.current?.select([id]);
    },
    [doc, readOnly, change],
  );

  const copy = useCallback(() => {
    if (!doc || selection.nodes.length === 0) return;
    const chosen = new Set(selection.nodes);
    writeClipboard(doc.nodes.filter((n) => chosen.has(n.id)));
    setStatus(t("copy") + ` · ${chosen.size}`);
  }, [doc, selection, t]);
  const paste = useCallback(() => {
    if (!doc || readOnly) return;
    const nodes = readClipboard().filter(
      (n): n is NodeDoc => !!n && typeof n === "object" && typeof (n as NodeDoc).id === "string" && typeof (n as NodeDoc).type === "string",
    );
    if (nodes.length === 0) return;
    change(pasteNodes(doc, nodes, { x: 40, y: 40 }).doc);
  }, [doc, readOnly, change]);
  const removeSelected = useCallback(() => {
    if (!doc || readOnly) return;
    let next = removeNodes(doc, selection.nodes);
    for (const e of selection.edges) {
      const cut = e.indexOf(":");
      next = disconnect(next, e.slice(0, cut), e.slice(cut + 1));
    }
    change(next);
  }, [doc, readOnly, selection, change]);

  const layout = useCallback(async () => {
    const began = performance.now();
    await canvas.current?.layout();
    const el = root.current;
    el?.setAttribute("data-last-layout-ms", (performance.now() - began).toFixed(1));
    el?.setAttribute("data-layout-count", String(Number(el.dataset.layoutCount ?? 0) + 1));
  }, []);

  // ---- save, publish --------------------------------------------------------------------
  const save = useCallback(async (over?: number): Promise<number | null> => {
    if (!doc || readOnly) return null;
    setActionError(null);
    try {
      const saved = await unwrap(
        api.PUT("/api/v1/scenarios/{scenario_id}", { params: { path: { scenario_id: scenarioId } }, body: { revision: over ?? revision, document: doc } }),
      );
      setRevision(saved.revision);
      setSavedDoc(doc);
      setRestored(null);
      setConflict(null);
      dropDraft(scenarioId);
      setStatus(t("saved", { r: saved.revision }));
      return saved.revision;
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        const theirs = await unwrap(api.GET("/api/v1/scenarios/{scenario_id}", { params: { path: { scenario_id: scenarioId } } }));
        setConflict({ theirs, comparing: false });
      } else {
        setActionError(err);
      }
      return null;
    }
  }, [doc, readOnly, revision, scenarioId, t]);

  const publish = async () => {
    setActionError(null);
    const at = dirty ? await save() : revision;
    if (at === null) return;
    try {
      const made = await unwrap(
        api.POST("/api/v1/scenarios/{scenario_id}/publish", { params: { path: { scenario_id: scenarioId } }, body: { comment, revision: at } }),
      );
      setPublishing(false);
      setComment("");
      setStatus(t("published", { v: made.version }));
    } catch (err) {
      setActionError(err);
    }
  };

  const reloadTheirs = () => {
    if (!conflict) return;
    const theirs = conflict.theirs.document as ScenarioDocument;
    setHistory(start(theirs));
    setSavedDoc(theirs);
    setRevision(conflict.theirs.revision);
    setConflict(null);
    setRestored(null);
    dropDraft(scenarioId);
  };
  const keepMine = () => {
    if (conflict) void save(conflict.theirs.revision);
  };

  // ---- keyboard -------------------------------------------------------------------------
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const mod = e.ctrlKey || e.metaKey;
      const target = e.target as HTMLElement | null;
      const typing = !!target && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
      if (mod && e.key.toLowerCase() === "s") {
        e.preventDefault();
        void save();
        return;
      }
      if (typing || !mod) return;
      const key = e.key.toLowerCase();
      if (key === "z" && !e.shiftKey) setHistory((h) => (h ? undo(h) : h));
      else if (key === "y" || (key === "z" && e.shiftKey)) setHistory((h) => (h ? redo(h) : h));
      else if (key === "c") copy();
      else if (key === "v") paste();
      else return;
      e.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [save, copy, paste]);

  const jump = (i: number) => {
    if (!findings || !doc || findings.length === 0) return;
    setCurrentFinding(i);
    const { node } = findingTarget(findings[i], doc);
    if (node) canvas.current?.focusNode(node);
  };

  const names = useMemo(
    () => ({ variables: (doc?.variables ?? []).map((v) => v.name).filter(Boolean), functions: catalogue?.functions ?? [] }),
    [doc?.variables, catalogue],
  );

  if (loadError || catalogueError) {
    return (
      <div className="editor-failed">
        <ErrorMessage error={loadError ?? catalogueError} />
        <a href="#/scenarios" className="crumb">{t("back")}</a>
      </div>
    );
  }
  if (!doc || !catalogue) return <p className="loading">{t("loading")}</p>;

  const selectedNode = selection.nodes.length === 1 ? doc.nodes.find((n) => n.id === selection.nodes[0]) : undefined;

  return (
    <NamesContext.Provider value={names}>
      <div className="editor" ref={root} data-testid="editor" data-dirty={dirty ? "yes" : "no"} data-revision={revision}>
        <div className="editor-bar" role="toolbar" aria-label={t("scenario")}>
          <a href="#/scenarios" className="crumb">{t("back")}</a>
          <span className="crumb-sep">/</span>
          <strong className="scenario-name" title={doc.name || doc.id}>{doc.name || doc.id}</strong>
          <span className="muted small" title={`r${revision} · ${t("nodesCount", { n: doc.nodes.length })}`}>{doc.id}</span>
          <span className="bar-gap" />
          <button type="button" onClick={() => setHistory((h) => (h ? undo(h) : h))} disabled={readOnly || history!.past.length === 0} title={`${t("undo")} (Ctrl+Z)`} aria-label={t("undo")}>↶</button>
          <button type="button" onClick={() => setHistory((h) => (h ? redo(h) : h))} disabled={readOnly || history!.future.length === 0} title={`${t("redo")} (Ctrl+Y)`} aria-label={t("redo")}>↷</button>
          <button type="button" onClick={copy} disabled={selection.nodes.length === 0} title={`${t("copy")} (Ctrl+C)`} aria-label={t("copy")}>❏</button>
          <button type="button" onClick={paste} disabled={readOnly} title={`${t("paste")} (Ctrl+V)`} aria-label={t("paste")}>⤓</button>
          <button type="button" onClick={removeSelected} disabled={readOnly || selection.nodes.length + selection.edges.length === 0} title={`${t("delete")} (Del)`} aria-label={t("delete")}>✕</button>
          <button type="button" onClick={() => void layout()} disabled={readOnly}>{t("layout")}</button>
          <button type="button" onClick={() => canvas.current?.fitView()} title={t("fit")} aria-label={t("fit")}>⤢</button>
          <span className="bar-gap" />
          <button
            type="button"
            className={`validity ${findings === null ? "" : errors ? "bad" : warnings ? "warn" : "good"}`}
            onClick={() => setShowFindings((s) => !s)}
            aria-expanded={showFindings}
            data-testid="validity"
          >
            {findings === null ? t("checking") : findings.length === 0 ? `✓ ${t("valid")}` : t("summary", { errors, warnings })}
          </button>
          <nav className="editor-views" aria-label={t("scenario")}>
            <a href={`#/console/${encodeURIComponent(scenarioId)}`}>{t("testCall")}</a>
            <a href={`#/scenarios/${encodeURIComponent(scenarioId)}/diff`}>{t("versionsDiff")}</a>
            <a href={`#/scenarios/${encodeURIComponent(scenarioId)}/heatmap`}>{t("heatmap")}</a>
          </nav>
          <span className="save-state" data-testid="save-state" role="status">{status || (dirty ? t("unsaved") : t("upToDate"))}</span>
          <button type="button" onClick={() => void download(`/api/v1/scenarios/${encodeURIComponent(scenarioId)}/export`, `${scenarioId}.json`).catch(setActionError)}>
            {t("export")}
          </button>
          <button type="button" onClick={() => void save()} disabled={readOnly || !dirty} title="Ctrl+S">{t("save")}</button>
          <button type="button" className="primary" onClick={() => setPublishing(true)} disabled={readOnly}>{t("publish")}</button>
        </div>
        {readOnly && <p className="notice">{t("readOnly")}</p>}
        {restored && (
          <p className="notice notice-warn" role="status" data-testid="restored">
            {restored.mine === restored.theirs
              ? t("restored", { time: new Date(restored.time).toLocaleTimeString() })
              : t("restoredStale", { time: new Date(restored.time).toLocaleTimeString(), mine: restored.mine, theirs: restored.theirs })}{" "}
            <button type="button" onClick={() => {
              dropDraft(scenarioId);
              setRestored(null);
              setHistory(start(savedDoc!));
              setRevision(restored.theirs);
            }}>{t("discard")}</button>
          </p>
        )}
        {conflict && (
          <div className="notice notice-error" role="alert" data-testid="conflict">
            {t("conflict", { who: conflict.theirs.updated_by, time: new Date(conflict.theirs.updated_at * 1000).toLocaleTimeString(), r: conflict.theirs.revision })}{" "}
            <button type="button" onClick={reloadTheirs}>{t("reloadTheirs")}</button>{" "}
            <button type="button" onClick={() => setConflict({ ...conflict, comparing: !conflict.comparing })} aria-expanded={conflict.comparing}>{t("compare")}</button>{" "}
            <button type="button" onClick={keepMine}>{t("keepMine")}</button>
            {conflict.comparing && <Comparison mine={doc} theirs={conflict.theirs.document as ScenarioDocument} />}
          </div>
        )}
        <ErrorMessage error={actionError} />
        {publishing && (
          <form className="publish-dialog" role="dialog" aria-label={t("publishTitle")} onSubmit={(e) => { e.preventDefault(); void publish(); }}
            onKeyDown={(e) => e.key === "Escape" && setPublishing(false)}>
            <strong>{t("publishTitle")}</strong>
            <label>
              {t("publishComment")}
              <input value={comment} onChange={(e) => setComment(e.target.value)} autoFocus maxLength={2000} />
            </label>
            {errors > 0 && <span className="field-error" role="alert">{t("publishBlocked")}</span>}
            <button type="submit" className="primary" disabled={errors > 0 || findings === null}>{t("publishNow")}</button>
            <button type="button" onClick={() => setPublishing(false)}>{t("cancel")}</button>
          </form>
        )}
        <div className="editor-body">
          {!readOnly && <Palette components={catalogue.components} onAdd={(type) => addAt(type)} />}
          <div className="editor-canvas" ref={area}>
            <FlowCanvas
              ref={canvas}
              document={doc}
              components={catalogue.components}
              readOnly={readOnly}
              decorations={decorations}
              onChange={onCanvasChange}
              onSelectionChange={setSelection}
              onDropComponent={addAt}
              onRendered={(ms) => {
                root.current?.setAttribute("data-rendered-ms", ms.toFixed(1));
                root.current?.setAttribute("data-rendered-at", performance.now().toFixed(1));
              }}
            />
            {showFindings && findings && (
              <FindingsPanel findings={findings} current={currentFinding} onJump={jump} onClose={() => setShowFindings(false)} />
            )}
          </div>
          <aside className="side-panel">
            {selectedNode ? (
              <Inspector
                key={selectedNode.id}
                node={selectedNode}
                component={byType.get(selectedNode.type)}
                nodeIds={doc.nodes.map((n) => n.id)}
                readOnly={readOnly}
                onParams={(params) => !same(params, selectedNode.params ?? {}) && change(updateNode(doc, selectedNode.id, { params }), `params:${selectedNode.id}`)}
                onTitle={(title) => change(updateNode(doc, selectedNode.id, { title: title || undefined }), `title:${selectedNode.id}`)}
                onRename={(id) => {
                  const next = renameNode(doc, selectedNode.id, id);
                  if (next === doc) return false;
                  change(next);
                  setTimeout(() => canvas.current?.focusNode(id), 50);
                  return true;
                }}
                onExit={(exit, target) => change(target ? connect(doc, selectedNode.id, exit, target) : disconnect(doc, selectedNode.id, exit))}
              />
            ) : (
              <ScenarioPanel doc={doc} readOnly={readOnly} onChange={change} />
            )}
          </aside>
        </div>
      </div>
    </NamesContext.Provider>
  );
}

function ScenarioPanel({ doc, readOnly, onChange }: { doc: ScenarioDocument; readOnly: boolean; onChange: (d: ScenarioDocument, key?: string) => void }) {
  const t = useStrings(EDITOR_STRINGS);
  return (
    <div className="inspector">
      <h2>{t("scenario")}</h2>
      <p className="muted small">{t("selectHint")}</p>
      <label className="field">
        <span>{t("scenarioName")}</span>
        <input value={doc.name ?? ""} disabled={readOnly} onChange={(e) => onChange({ ...doc, name: e.target.value }, "name")} />
      </label>
      <label className="field">
        <span>{t("description")}</span>
        <textarea rows={2} value={String(doc.description ?? "")} disabled={readOnly}
          onChange={(e) => onChange({ ...doc, description: e.target.value }, "description")} />
      </label>
      <VariablesPanel variables={(doc.variables ?? []) as VariableDoc[]} readOnly={readOnly}
        onChange={(variables) => onChange({ ...doc, variables }, "variables")} />
    </div>
  );
}

function Comparison({ mine, theirs }: { mine: ScenarioDocument; theirs: ScenarioDocument }) {
  const t = useStrings(EDITOR_STRINGS);
  const a = new Map(mine.nodes.map((n) => [n.id, n]));
  const b = new Map(theirs.nodes.map((n) => [n.id, n]));
  const onlyMine = [...a.keys()].filter((id) => !b.has(id));
  const onlyTheirs = [...b.keys()].filter((id) => !a.has(id));
  const changed = [...a.keys()].filter((id) => b.has(id) && !same({ ...a.get(id), ui: undefined }, { ...b.get(id), ui: undefined }));
  if (!onlyMine.length && !onlyTheirs.length && !changed.length) return <p>{t("noDifferences")}</p>;
  return (
    <dl className="comparison" data-testid="comparison">
      {onlyMine.length > 0 && (<><dt>{t("onlyMine")}</dt><dd>{onlyMine.join(", ")}</dd></>)}
      {onlyTheirs.length > 0 && (<><dt>{t("onlyTheirs")}</dt><dd>{onlyTheirs.join(", ")}</dd></>)}
      {changed.length > 0 && (<><dt>{t("changed")}</dt><dd>{changed.join(", ")}</dd></>)}
    </dl>
  );
}

