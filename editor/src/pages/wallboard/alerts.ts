// Alerts in the UI language, their times counted live (pure: the page and tests use it).
import type { Alert } from "./board";
import { duration, percent, since } from "./format";
import type { WALLBOARD } from "./strings";

type Key = keyof (typeof WALLBOARD)["en"];
type T = (key: Key, params?: Record<string, string | number>) => string;

/** An alert in the UI language, its times counted live; the server's text for kinds we do not know. */
export function alertText(a: Alert, queue: string, now: number, t: T): string {
  if (a.kind === "line_silent" && a.line) {
    return t("a_line_silent", { line: a.line, minutes: Math.floor((since(now, a.since ?? a.at) ?? 0) / 60) });
  }
  if (a.kind === "service_level" && typeof a.level === "number" && typeof a.target === "number") {
    return t("a_service_level", { queue, level: percent(a.level), target: percent(a.target) });
  }
  if (a.kind === "long_wait" && typeof a.since === "number") {
    return t("a_long_wait", { queue, wait: duration(since(now, a.since)) });
  }
  return queue ? `${queue}: ${a.message}` : a.message;
}

