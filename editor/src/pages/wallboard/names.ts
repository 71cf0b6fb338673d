// Display names of operators, queues and custom statuses in the UI language,
// from the centre document (supervisors) or the operators list (anyone).
import { useEffect, useState } from "react";
import { api, unwrap } from "../../api/client";
import type { Lang } from "../../i18n";

type Local = { en: string; ru: string };
export type Names = { operators: Record<string, string>; queues: Record<string, Local>; statuses: Record<string, Local> };

const EMPTY_NAMES: Names = { operators: {}, queues: {}, statuses: {} };

function local(value: unknown, fallback: string): Local {
  if (typeof value === "string") return { en: value, ru: value };
  if (value && typeof value === "object") {
    const { en, ru } = value as Record<string, unknown>;
    const e = typeof en === "string" ? en : "";
    const r = typeof ru === "string" ? ru : "";
    return { en: e || r || fallback, ru: r || e || fallback };
  }
  return { en: fallback, ru: fallback };
}

/** Names from a centre document (untyped in the API: the centre file's form). */
export function namesOf(centre: Record<string, unknown>): Names {
  const out: Names = { operators: {}, queues: {}, statuses: {} };
  const list = (key: string) => (Array.isArray(centre[key]) ? (centre[key] as Record<string, unknown>[]) : []);
  for (const op of list("operators")) out.operators[String(op.id)] = local(op.name, String(op.id)).ru;
  for (const q of [...list("queues"), ...list("departments")]) out.queues[String(q.id)] = local(q.name, String(q.id));
  for (const s of list("statuses")) out.statuses[String(s.id)] = local(s.name, String(s.id));
  return out;
}

export function pick(name: Local | undefined, lang: Lang, fallback: string): string {
  return name ? name[lang] || fallback : fallback;
}

export function useNames(supervisor: boolean): Names {
  const [names, setNames] = useState<Names>(EMPTY_NAMES);
  useEffect(() => {
    let live = true;
    const load = supervisor
      ? unwrap(api.GET("/api/v1/centre")).then((c) => namesOf(c.centre))
      : Promise.all([unwrap(api.GET("/api/v1/operators")), unwrap(api.GET("/api/v1/queues"))]).then(([ops, queues]) => ({
          ...EMPTY_NAMES,
          operators: Object.fromEntries(ops.map((o) => [o.id, o.name])),
          queues: Object.fromEntries(queues.map((q) => [q.id, { en: q.name, ru: q.name }])),
        }));
    load.then((n) => live && setNames(n)).catch(() => undefined); // ids stand in for names
    return () => {
      live = false;
    };
  }, [supervisor]);
  return names;
}
