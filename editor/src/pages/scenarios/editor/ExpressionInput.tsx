// A text field for an expression (or a template with {holes}): checked live
// against the API, the error's column marked, and declared variables and
// functions offered for completion as you type.
import { createContext, useContext, useEffect, useId, useRef, useState, type KeyboardEvent } from "react";
import { api, unwrap, type Schemas } from "../../../api/client";
import { useStrings } from "../../../i18n";
import { EDITOR_STRINGS } from "./strings";

export type ExpressionNames = { variables: string[]; functions: string[] };
export const NamesContext = createContext<ExpressionNames>({ variables: [], functions: [] });

type Result = Schemas["ExpressionResult"];
const IDENT = /[\p{L}_][\p{L}\p{N}_]*$/u;

/** The identifier being typed just before the caret, if any. */
export function wordAt(text: string, caret: number): { start: number; word: string } | null {
  const m = IDENT.exec(text.slice(0, caret));
  return m ? { start: caret - m[0].length, word: m[0] } : null;
}

export function suggestions(word: string, names: ExpressionNames, limit = 8): { name: string; fn: boolean }[] {
  const low = word.toLowerCase();
  const out = [
    ...names.variables.filter((v) => v.toLowerCase().startsWith(low)).map((name) => ({ name, fn: false })),
    ...names.functions.filter((f) => f.toLowerCase().startsWith(low)).map((name) => ({ name, fn: true })),
  ].filter((s) => s.name !== word);
  return out.slice(0, limit);
}

export function ExpressionInput({
  id,
  value,
  onChange,
  kind,
  label,
  multiline = false,
  disabled = false,
}: {
  id?: string;
  value: string;
  onChange: (value: string) => void;
  kind: "expression" | "template";
  label?: string;
  multiline?: boolean;
  disabled?: boolean;
}) {
  const t = useStrings(EDITOR_STRINGS);
  const names = useContext(NamesContext);
  const [result, setResult] = useState<Result | null>(null);
  const [caret, setCaret] = useState<number | null>(null);
  const [active, setActive] = useState(0);
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLInputElement & HTMLTextAreaElement>(null);
  const listId = useId();

  useEffect(() => {
    if (!value) {
      setResult(null);
      return;
    }
    const timer = setTimeout(() => {
      unwrap(api.POST("/api/v1/expressions/check", { body: { expression: value, kind, variables: names.variables } })).then(
        setResult,
        () => setResult(null), // the check is a help; a failed request says nothing about the text
      );
    }, 250);
    return () => clearTimeout(timer);
  }, [value, kind, names.variables]);

  const typed = caret !== null ? wordAt(value, caret) : null;
  const inHole = kind === "expression" || (caret !== null && value.lastIndexOf("{", caret - 1) > value.lastIndexOf("}", caret - 1));
  const offered = open && typed && inHole ? suggestions(typed.word, names) : [];

  const accept = (choice: { name: string; fn: boolean }) => {
    if (!typed || caret === null) return;
    const insert = choice.fn ? `${choice.name}(` : choice.name;
    const next = value.slice(0, typed.start) + insert + value.slice(caret);
    onChange(next);
    setOpen(false);
    const at = typed.start + insert.length;
    requestAnimationFrame(() => {
      ref.current?.setSelectionRange(at, at);
      setCaret(at);
    });
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (offered.length === 0) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      setActive((a) => (a + (e.key === "ArrowDown" ? 1 : offered.length - 1)) % offered.length);
    } else if (e.key === "Enter" || e.key === "Tab") {
      e.preventDefault();
      accept(offered[Math.min(active, offered.length - 1)]);
    } else if (e.key === "Escape") {
      setOpen(false);
    }
  };

  const common = {
    id,
    ref,
    value,
    disabled,
    spellCheck: false,
    "aria-label": label,
    "aria-invalid": result?.ok === false,
    "aria-autocomplete": "list" as const,
    "aria-controls": offered.length ? listId : undefined,
    className: `expr-input${result?.ok === false ? " invalid" : ""}`,
    onChange: (e: { target: { value: string; selectionStart: number | null } }) => {
      onChange(e.target.value);
      setCaret(e.target.selectionStart);
      setOpen(true);
      setActive(0);
    },
    onKeyDown,
    onBlur: () => setTimeout(() => setOpen(false), 150),
    onSelect: (e: { currentTarget: { selectionStart: number | null } }) => setCaret(e.currentTarget.selectionStart),
  };

  const column = result?.ok === false ? result.column ?? null : null;
  return (
    <div className="expr-field">
      {multiline ? <textarea rows={2} {...common} /> : <input type="text" {...common} />}
      {offered.length > 0 && (
        <ul className="expr-suggest" role="listbox" id={listId} aria-label={t("suggestions")}>
          {offered.map((s, i) => (
            <li
              key={s.name}
              role="option"
              aria-selected={i === active}
              className={i === active ? "active" : ""}
              onMouseDown={(e) => {
                e.preventDefault();
                accept(s);
              }}
            >
              <span className="expr-kind">{s.fn ? "ƒ" : "x"}</span>
              {s.name}
              {s.fn ? "()" : ""}
            </li>
          ))}
        </ul>
      )}
      {result?.ok === false && (
        <div className="expr-error" role="alert" data-testid="expr-error">
          {column !== null && (
            <code className="expr-mark" aria-hidden="true">
              {value.slice(0, column - 1)}
              <mark>{value.slice(column - 1, column) || " "}</mark>
              {value.slice(column)}
            </code>
          )}
          <span>{column !== null ? t("exprErrorAt", { column, error: result.error ?? "" }) : result.error}</span>
        </div>
      )}
      {result?.ok && (result.unknown_variables ?? []).length > 0 && (
        <div className="expr-warn" data-testid="expr-unknown">{t("undeclared", { names: (result.unknown_variables ?? []).join(", ") })}</div>
      )}
    </div>
  );
}
