// A published scenario and a version of it (pinned) or "latest".
import { useStrings } from "../../i18n";
import type { Schemas } from "../../api/client";
import { NUMBERS } from "./strings";

export type Ref = { scenario_id: string | null; version: number | null };

type Props = {
  scenarios: Schemas["ScenarioSummary"][];
  value: Ref;
  onChange: (ref: Ref) => void;
  noneLabel?: string;
  idPrefix: string;
  disabled?: boolean;
};

export function ScenarioPicker({ scenarios, value, onChange, noneLabel, idPrefix, disabled }: Props) {
  const t = useStrings(NUMBERS);
  const published = scenarios.filter((s) => s.latest_version != null);
  const chosen = published.find((s) => s.id === value.scenario_id);
  const versions = chosen?.latest_version ? Array.from({ length: chosen.latest_version }, (_, i) => i + 1) : [];
  return (
    <span className="picker">
      <label htmlFor={`${idPrefix}-scenario`} className="sr-only">{t("scenario")}</label>
      <select
        id={`${idPrefix}-scenario`}
        aria-label={t("scenario")}
        value={value.scenario_id ?? ""}
        disabled={disabled}
        onChange={(e) => onChange({ scenario_id: e.target.value || null, version: null })}
      >
        {noneLabel !== undefined ? <option value="">{noneLabel}</option> : <option value="" disabled>{t("scenario")}…</option>}
        {published.map((s) => (
          <option key={s.id} value={s.id}>{s.name ? `${s.id} — ${s.name}` : s.id}</option>
        ))}
      </select>
      <label htmlFor={`${idPrefix}-version`} className="sr-only">{t("version")}</label>
      <select
        id={`${idPrefix}-version`}
        aria-label={t("version")}
        value={value.version ?? ""}
        disabled={disabled || !chosen}
        onChange={(e) => onChange({ ...value, version: e.target.value ? Number(e.target.value) : null })}
      >
        <option value="">{t("latest")}</option>
        {versions.map((v) => (
          <option key={v} value={v}>{t("pinned", { n: v })}</option>
        ))}
      </select>
    </span>
  );
}

export function refText(ref: { scenario_id?: string | null; version?: number | null } | null | undefined, latest: string): string {
  if (!ref?.scenario_id) return "—";
  return `${ref.scenario_id} · ${ref.version ? `v${ref.version}` : latest}`;
}
