// An ended call as a scenario test case: shown, and downloadable with its scenario.
import { useState, type FormEvent } from "react";
import { api, unwrap, type Schemas } from "../../api/client";
import { useStrings } from "../../i18n";
import { ErrorMessage } from "../../shell/ErrorMessage";
import { CONSOLE } from "./strings";

function saveText(text: string, filename: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function SaveCase({ callId }: { callId: string }) {
  const t = useStrings(CONSOLE);
  const [name, setName] = useState("");
  const [found, setFound] = useState<Schemas["TestCasePublic"] | null>(null);
  const [error, setError] = useState<unknown>(null);

  async function save(event: FormEvent) {
    event.preventDefault();
    setError(null);
    try {
      setFound(await unwrap(api.POST("/api/v1/calls/{call_id}/test-case", {
        params: { path: { call_id: callId } },
        body: name.trim() ? { name: name.trim() } : {},
      })));
    } catch (err) {
      setError(err);
    }
  }

  async function scenario() {
    if (!found) return;
    try {
      const doc = await unwrap(api.GET("/api/v1/scenarios/{scenario_id}/versions/{version}", {
        params: { path: { scenario_id: found.scenario_id, version: found.scenario_version } },
      }));
      saveText(JSON.stringify(doc.document, null, 2), `${found.scenario_id}.json`, "application/json");
    } catch (err) {
      setError(err);
    }
  }

  return (
    <section className="panel save-case" aria-label={t("saveCase")}>
      <form className="inline-row" onSubmit={save}>
        <input aria-label={t("caseName")} placeholder={t("caseName")} value={name} onChange={(e) => setName(e.target.value)} maxLength={200} />
        <button type="submit" className="primary">{t("saveCase")}</button>
      </form>
      <ErrorMessage error={error} />
      {found && (
        <>
          <pre className="case-yaml" data-testid="test-case">{found.content}</pre>
          <div className="inline-row">
            <button type="button" onClick={() => saveText(found.content, found.file_name, "application/yaml")}>
              ↓ {t("download", { file: found.file_name })}
            </button>
            <button type="button" onClick={() => void scenario()}>↓ {t("downloadScenario", { file: `${found.scenario_id}.json` })}</button>
          </div>
          <p className="hint">{t("caseSaved", { file: found.file_name })}</p>
        </>
      )}
    </section>
  );
}
