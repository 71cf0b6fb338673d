// The validator's findings as a list: click one (or step with the arrows) to
// jump to the node it names.
import { useStrings } from "../../../i18n";
import type { Finding } from "./findings";
import { EDITOR_STRINGS } from "./strings";

export function FindingsPanel({ findings, current, onJump, onClose }: {
  findings: Finding[]; current: number; onJump: (i: number) => void; onClose: () => void;
}) {
  const t = useStrings(EDITOR_STRINGS);
  const n = findings.length;
  return (
    <section className="findings" aria-label={t("problems")} data-testid="findings">
      <header>
        <strong>{t("problems")}</strong>
        <button type="button" disabled={n === 0} onClick={() => onJump((current - 1 + n) % n)} aria-label={t("prevProblem")}>↑</button>
        <button type="button" disabled={n === 0} onClick={() => onJump((current + 1) % n)} aria-label={t("nextProblem")}>↓</button>
        <span className="spacer" />
        <button type="button" onClick={onClose} aria-label={t("close")}>×</button>
      </header>
      {n === 0 ? (
        <p className="muted small">{t("noProblems")}</p>
      ) : (
        <ol>
          {findings.map((f, i) => (
            <li key={i}>
              <button type="button" className={`finding ${f.severity}${i === current ? " current" : ""}`} onClick={() => onJump(i)}
                data-testid="finding">
                <span className="sev">{f.severity === "error" ? "✖" : "!"}</span>
                <span className="msg">{f.message}</span>
                <span className="where">{[f.node_id, f.path].filter(Boolean).join(" · ")}</span>
              </button>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
