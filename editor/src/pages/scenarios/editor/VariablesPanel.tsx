// The scenario's declared variables: their names are offered for completion
// in every expression field.
import type { VariableDoc } from "../../../canvas/model";
import { useStrings } from "../../../i18n";
import { EDITOR_STRINGS } from "./strings";

function parseDefault(text: string): VariableDoc["default"] {
  if (text === "") return "";
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (text === "true" || text === "false") return text === "true";
  return text;
}

export function VariablesPanel({ variables, readOnly, onChange }: {
  variables: VariableDoc[]; readOnly: boolean; onChange: (v: VariableDoc[]) => void;
}) {
  const t = useStrings(EDITOR_STRINGS);
  const set = (i: number, patch: Partial<VariableDoc>) => onChange(variables.map((v, j) => (j === i ? { ...v, ...patch } : v)));
  return (
    <section className="variables" aria-label={t("variables")} data-testid="variables">
      <h2>{t("variables")}</h2>
      {variables.length === 0 && <p className="muted small">{t("noVariables")}</p>}
      {variables.map((v, i) => (
        <div className="var-row" key={i}>
          <input aria-label={t("varName", { n: i + 1 })} value={v.name} disabled={readOnly} placeholder="NAME"
            onChange={(e) => set(i, { name: e.target.value })} />
          <input aria-label={t("varDefault", { n: i + 1 })} value={v.default === null || v.default === undefined ? "" : String(v.default)}
            disabled={readOnly} placeholder={t("default")} onChange={(e) => set(i, { default: parseDefault(e.target.value) })} />
          <button type="button" disabled={readOnly} aria-label={t("removeVar", { name: v.name })}
            onClick={() => onChange(variables.filter((_, j) => j !== i))}>×</button>
        </div>
      ))}
      <button type="button" disabled={readOnly} onClick={() => onChange([...variables, { name: "", default: "" }])}>
        {t("addVariable")}
      </button>
    </section>
  );
}
