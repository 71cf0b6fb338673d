// CDR results (docs of flowengine.storage.cdr) in both languages.
import type { Lang } from "../../i18n";

const RESULTS: Record<string, { en: string; ru: string }> = {
  operator: { en: "talked to an operator", ru: "разговор с оператором" },
  transferred: { en: "transferred", ru: "переведён" },
  abandoned: { en: "hung up waiting", ru: "не дождался" },
  queue_timeout: { en: "waited too long", ru: "превышено ожидание" },
  queue_full: { en: "queue full", ru: "очередь полна" },
  no_operators: { en: "no operators", ru: "нет операторов" },
  no_answer: { en: "nobody answered", ru: "никто не ответил" },
  callback: { en: "callback asked", ru: "заказан обратный звонок" },
  refused: { en: "no route", ru: "нет маршрута" },
  ivr: { en: "ended in the IVR", ru: "завершён в IVR" },
  interrupted: { en: "interrupted", ru: "прерван" },
};

export function resultName(result: string, lang: Lang): string {
  return RESULTS[result]?.[lang] ?? result;
}

/** A value of a scenario variable as text (objects as JSON). */
export function showValue(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "string") return value || "«»";
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}
