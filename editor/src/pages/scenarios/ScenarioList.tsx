// The scenarios: list, create, import a JSON file (all or nothing, problems
// listed with their JSON paths), export, versions and roll back.
import { useCallback, useEffect, useState, type ChangeEvent, type FormEvent } from "react";
import { api, ApiError, download, unwrap, type Schemas } from "../../api/client";
import { emptyDocument } from "../../canvas/model";
import { useStrings } from "../../i18n";
import { ErrorMessage } from "../../shell/ErrorMessage";
import { navigate } from "../../shell/router";
import { atLeast, useSession } from "../../shell/session";
import { LIST_STRINGS } from "./strings";
import "./scenarios.css";

type Summary = Schemas["ScenarioSummary"];
type VersionInfo = Schemas["VersionPublic"];

/** The scenarios in a JSON file: one document, a list, or an export bundle. */
export function scenariosInFile(data: unknown): unknown[] {
  if (Array.isArray(data)) return data;
  if (data && typeof data === "object" && Array.isArray((data as { scenarios?: unknown }).scenarios)) {
    return (data as { scenarios: unknown[] }).scenarios;
  }
  return [data];
}

function when(seconds: number): string {
  return new Date(seconds * 1000).toLocaleString();
}

export function ScenarioList() {
  const t = useStrings(LIST_STRINGS);
  const { me } = useSession();
  const admin = atLeast(me, "admin");
  const [items, setItems] = useState<Summary[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string>("");
  const [importError, setImportError] = useState<unknown>(null);
  const [creating, setCreating] = useState(false);
  const [openVersions, setOpenVersions] = useState<string | null>(null);

  const reload = useCallback(async () => {
    try {
      setItems(await unwrap(api.GET("/api/v1/scenarios")));
    } catch (err) {
      setError(err);
    }
  }, []);
  useEffect(() => void reload(), [reload]);
  // the editor's code, fetched while the list is read, so a scenario opens at once
  useEffect(() => {
    const timer = setTimeout(() => void import("./editor/EditorPage").catch(() => undefined), 300);
    return () => clearTimeout(timer);
  }, []);

  const onImport = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    e.target.value = "";
    if (!file) return;
    setNotice("");
    setImportError(null);
    let data: unknown;
    try {
      data = JSON.parse(await file.text());
    } catch (err) {
      setImportError(new Error(t("badJson", { error: String((err as Error).message) })));
      return;
    }
    try {
      const result = await unwrap(
        api.POST("/api/v1/scenarios/import", { body: { scenarios: scenariosInFile(data), publish: true, comment: file.name } }),
      );
      setNotice(t("imported", { ids: result.scenarios.map((s) => s.id).join(", ") }));
      await reload();
    } catch (err) {
      setImportError(err);
    }
  };

  return (
    <section className="scenario-list" data-page="scenarios">
      <header className="list-head">
        <h1>{t("title")}</h1>
        {admin && (
          <>
            <button type="button" className="primary" onClick={() => setCreating(true)}>{t("create")}</button>
            <label className="file-button">
              <input type="file" accept=".json,application/json" onChange={(e) => void onImport(e)} aria-label={t("importFile")} />
              <span aria-hidden="true">{t("importFile")}</span>
            </label>
          </>
        )}
      </header>
      {creating && <CreateForm onDone={() => setCreating(false)} />}
      {notice && <p className="notice" role="status">{notice}</p>}
      {importError !== null && (
        <div data-testid="import-errors">
          {importError instanceof ApiError && <p className="notice-title">{t("importNothing")}</p>}
          <ErrorMessage error={importError} />
        </div>
      )}
      <ErrorMessage error={error} />
      {items === null ? (
        <p className="loading">{t("loading")}</p>
      ) : items.length === 0 ? (
        <p className="notice">{t("empty")}</p>
      ) : (
        <table className="scenarios-table">
          <thead>
            <tr>
              <th>{t("id")}</th>
              <th>{t("name")}</th>
              <th>{t("revision")}</th>
              <th>{t("latest")}</th>
              <th>{t("updated")}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {items.map((s) => (
              <ScenarioRow
                key={s.id}
                s={s}
                admin={admin}
                versionsOpen={openVersions === s.id}
                toggleVersions={() => setOpenVersions(openVersions === s.id ? null : s.id)}
                reload={reload}
              />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function ScenarioRow({ s, admin, versionsOpen, toggleVersions, reload }: {
  s: Summary; admin: boolean; versionsOpen: boolean; toggleVersions: () => void; reload: () => Promise<void>;
}) {
  const t = useStrings(LIST_STRINGS);
  const [error, setError] = useState<unknown>(null);
  return (
    <>
      <tr data-testid={`scenario-${s.id}`}>
        <td><a href={`#/scenarios/${encodeURIComponent(s.id)}`}>{s.id}</a></td>
        <td>{s.name || t("none")}</td>
        <td>{s.revision}</td>
        <td>{s.latest_version ?? t("none")}</td>
        <td>{when(s.updated_at)} · {s.updated_by}</td>
        <td>
          <div className="row-actions">
          <button type="button" onClick={() => navigate(`/scenarios/${encodeURIComponent(s.id)}`)}>{t("open")}</button>
          <button type="button" onClick={() => download(`/api/v1/scenarios/${encodeURIComponent(s.id)}/export`, `${s.id}.json`).catch(setError)}>
            {t("export")}
          </button>
          <button type="button" aria-expanded={versionsOpen} onClick={toggleVersions}>
            {versionsOpen ? t("hideVersions") : t("versions")}
          </button>
          </div>
        </td>
      </tr>
      {error !== null && (
        <tr><td colSpan={6}><ErrorMessage error={error} /></td></tr>
      )}
      {versionsOpen && (
        <tr className="versions-row">
          <td colSpan={6}><Versions id={s.id} admin={admin} reload={reload} /></td>
        </tr>
      )}
    </>
  );
}

function Versions({ id, admin, reload }: { id: string; admin: boolean; reload: () => Promise<void> }) {
  const t = useStrings(LIST_STRINGS);
  const [versions, setVersions] = useState<VersionInfo[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState("");
  const load = useCallback(async () => {
    try {
      const list = await unwrap(api.GET("/api/v1/scenarios/{scenario_id}/versions", { params: { path: { scenario_id: id } } }));
      setVersions([...list].reverse());
    } catch (err) {
      setError(err);
    }
  }, [id]);
  useEffect(() => void load(), [load]);
  const rollback = async (v: number) => {
    setError(null);
    try {
      const made = await unwrap(
        api.POST("/api/v1/scenarios/{scenario_id}/rollback", {
          params: { path: { scenario_id: id } },
          body: { version: v, comment: t("rollbackComment", { v }) },
        }),
      );
      setNotice(t("rolledBack", { v, n: made.version }));
      await load();
      await reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <div className="versions" data-testid={`versions-${id}`}>
      <ErrorMessage error={error} />
      {notice && <p className="notice" role="status">{notice}</p>}
      {versions === null ? (
        <p className="loading">{t("loading")}</p>
      ) : versions.length === 0 ? (
        <p>{t("noVersions")}</p>
      ) : (
        <table>
          <thead>
            <tr><th>{t("version")}</th><th>{t("published")}</th><th>{t("author")}</th><th>{t("comment")}</th><th /></tr>
          </thead>
          <tbody>
            {versions.map((v, i) => (
              <tr key={v.version}>
                <td>{v.version}</td>
                <td>{when(v.published_at)}</td>
                <td>{v.author}</td>
                <td>{v.comment}</td>
                <td>
                  {admin && i > 0 && (
                    <button type="button" onClick={() => void rollback(v.version)} aria-label={`${t("rollback")} ${v.version}`}>
                      {t("rollback")}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function CreateForm({ onDone }: { onDone: () => void }) {
  const t = useStrings(LIST_STRINGS);
  const [id, setId] = useState("");
  const [name, setName] = useState("");
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await unwrap(api.POST("/api/v1/scenarios", { body: { document: emptyDocument(id.trim(), name.trim()) } }));
      onDone();
      navigate(`/scenarios/${encodeURIComponent(id.trim())}`);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form className="create-form" onSubmit={(e) => void submit(e)} aria-label={t("createTitle")}>
      <label>
        {t("id")}
        <input required pattern="[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}" value={id} onChange={(e) => setId(e.target.value)} autoFocus />
      </label>
      <label>
        {t("name")}
        <input value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <button type="submit" className="primary">{t("createButton")}</button>
      <button type="button" onClick={onDone}>{t("cancel")}</button>
      <ErrorMessage error={error} />
    </form>
  );
}
