// Who calls whom, on which line, at what time of day.
import { useEffect, useState, type FormEvent } from "react";
import type { Schemas } from "../../api/client";
import { useStrings } from "../../i18n";
import { CONSOLE } from "./strings";

export type Setup = { scenario: string; caller: string; called: string; line: string; at: string };

type Table = {
  numbers?: { number: string; scenario_id: string }[];
  lines?: { name: string; number?: string | null; scenario_id?: string | null }[];
};

/** A number (and line) that routes to `scenario`: a bound number, else a line bound to it. */
export function routeTo(table: Table, scenario: string): { called: string; line: string } | null {
  const number = table.numbers?.find((b) => b.scenario_id === scenario);
  if (number) return { called: number.number, line: "" };
  const line = table.lines?.find((l) => l.scenario_id === scenario);
  if (line) return { called: line.number ?? "", line: line.name };
  return null;
}

type Props = {
  scenarios: Schemas["ScenarioSummary"][];
  table: Table | null;
  initialScenario: string;
  busy: boolean;
  onStart: (setup: Setup) => void;
  /** the scenario chosen in the form (the page draws it) */
  onScenario?: (id: string) => void;
};

export function CallSetup({ scenarios, table, initialScenario, busy, onStart, onScenario }: Props) {
  const t = useStrings(CONSOLE);
  const [setup, setSetup] = useState<Setup>({ scenario: initialScenario, caller: "+79161234567", called: "", line: "", at: "" });
  const [unrouted, setUnrouted] = useState(false);

  useEffect(() => {
    if (!table || !setup.scenario) return;
    const found = routeTo(table, setup.scenario);
    setUnrouted(found === null);
    if (found) setSetup((s) => ({ ...s, called: found.called, line: found.line }));
  }, [table, setup.scenario]);

  const set = (patch: Partial<Setup>) => setSetup((s) => ({ ...s, ...patch }));
  function submit(event: FormEvent) {
    event.preventDefault();
    onStart(setup);
  }

  return (
    <form className="call-setup" onSubmit={submit} aria-label={t("title")}>
      <label className="stack">
        {t("scenario")}
        <select aria-label={t("scenario")} value={setup.scenario} onChange={(e) => {
          set({ scenario: e.target.value });
          onScenario?.(e.target.value);
        }}>
          <option value="">{t("anyScenario")}</option>
          {scenarios.filter((s) => s.latest_version != null).map((s) => (
            <option key={s.id} value={s.id}>{s.id}</option>
          ))}
        </select>
      </label>
      <label className="stack">
        {t("caller")}
        <input aria-label={t("caller")} value={setup.caller} onChange={(e) => set({ caller: e.target.value })} required maxLength={64} />
      </label>
      <label className="stack">
        {t("called")}
        <input aria-label={t("called")} value={setup.called} onChange={(e) => set({ called: e.target.value })} maxLength={64} placeholder="+74951230001" />
      </label>
      <label className="stack">
        {t("line")}
        <select aria-label={t("line")} value={setup.line} onChange={(e) => set({ line: e.target.value })}>
          <option value="">{t("noLine")}</option>
          {(table?.lines ?? []).map((l) => <option key={l.name} value={l.name}>{l.name}</option>)}
        </select>
      </label>
      <label className="stack">
        {t("timeOfDay")}
        <input aria-label={t("timeOfDay")} type="datetime-local" value={setup.at} onChange={(e) => set({ at: e.target.value })} />
      </label>
      <button type="submit" className="primary call-button" disabled={busy}>{busy ? t("starting") : t("start")}</button>
      {unrouted && <p className="notice notice-warn setup-hint">{t("noNumber")}</p>}
    </form>
  );
}
