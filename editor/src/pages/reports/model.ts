// Pure helpers of the reports page: the query a set of filters makes, the
// buckets of the service-level trend, and the figures the charts draw.
import type { Schemas } from "../../api/client";

export type Filters = {
  /** first day, YYYY-MM-DD (included) */
  from: string;
  /** last day, YYYY-MM-DD (included: the API's `to` is the next day's start) */
  to: string;
  queue: string;
  department: string;
  operator: string;
};

export type Query = {
  from: string;
  to: string;
  queue?: string[];
  department?: string[];
  operator?: string[];
};

/** `date` (YYYY-MM-DD) moved by `days`, by the calendar (no time zone involved). */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split("-").map(Number);
  const t = new Date(Date.UTC(y, m - 1, d + days));
  return t.toISOString().slice(0, 10);
}

/** Today in the viewer's zone, YYYY-MM-DD. */
export function today(now: Date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())}`;
}

export type Preset = "today" | "yesterday" | "week" | "month";

export function preset(which: Preset, day: string): Pick<Filters, "from" | "to"> {
  switch (which) {
    case "today":
      return { from: day, to: day };
    case "yesterday":
      return { from: addDays(day, -1), to: addDays(day, -1) };
    case "week":
      return { from: addDays(day, -6), to: day };
    case "month":
      return { from: addDays(day, -29), to: day };
  }
}

/** The query parameters of every report for these filters ("" means all). */
export function reportQuery(f: Filters): Query {
  const q: Query = { from: f.from, to: addDays(f.to, 1) };
  if (f.queue) q.queue = [f.queue];
  if (f.department) q.department = [f.department];
  if (f.operator) q.operator = [f.operator];
  return q;
}

/** The same query as a URL search string (the CSV download). */
export function searchOf(q: Query, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  params.set("from", q.from);
  params.set("to", q.to);
  for (const key of ["queue", "department", "operator"] as const) for (const v of q[key] ?? []) params.append(key, v);
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  return params.toString();
}

/** Problems with the filters before asking the server, or null. */
export function checkFilters(f: Filters): "from" | "to" | "order" | null {
  const date = /^\d{4}-\d{2}-\d{2}$/;
  if (!date.test(f.from)) return "from";
  if (!date.test(f.to)) return "to";
  if (f.to < f.from) return "order";
  return null;
}

export type Bucket = { label: string; from: string; to: string };

/** The periods the service-level trend is drawn over: the hours that had
 * calls when the period is one day, else each day (at most `maxDays`, the last ones). */
export function trendBuckets(f: Filters, busyHours: number[], maxDays = 31): Bucket[] {
  const p = (n: number) => String(n).padStart(2, "0");
  if (f.from === f.to) {
    return [...busyHours].sort((a, b) => a - b).map((h) => ({
      label: `${p(h)}:00`,
      from: `${f.from}T${p(h)}:00`,
      to: h === 23 ? addDays(f.from, 1) : `${f.from}T${p(h + 1)}:00`,
    }));
  }
  const out: Bucket[] = [];
  for (let day = f.to; day >= f.from && out.length < maxDays; day = addDays(day, -1)) {
    out.push({ label: `${day.slice(8, 10)}.${day.slice(5, 7)}`, from: day, to: addDays(day, 1) });
  }
  return out.reverse();
}

type QueueRow = Schemas["QueuesReportRow"];

/** Answered within the threshold ÷ offered over these rows (the report's `sl_offered`, summed), or null. */
export function serviceLevel(rows: Pick<QueueRow, "answered_within" | "offered">[]): number | null {
  const offered = rows.reduce((s, r) => s + r.offered, 0);
  if (offered === 0) return null;
  return rows.reduce((s, r) => s + r.answered_within, 0) / offered;
}

export type Totals = { offered: number; answered: number; abandoned: number; sl: number | null; asa: number | null; aht: number | null };

/** The period's headline figures from the queues report (waits weighted by answered calls). */
export function totals(rows: QueueRow[]): Totals {
  const sum = (k: "offered" | "answered" | "abandoned") => rows.reduce((s, r) => s + r[k], 0);
  const answered = sum("answered");
  const weighted = (k: "asa" | "aht") =>
    answered === 0 ? null : rows.reduce((s, r) => s + (r[k] ?? 0) * r.answered, 0) / answered;
  return { offered: sum("offered"), answered, abandoned: sum("abandoned"), sl: serviceLevel(rows), asa: weighted("asa"), aht: weighted("aht") };
}

export type LoadBar = { label: string; answered: number; lost: number; other: number; offered: number; peak?: number };

/** Load rows as stacked bars: answered, lost (waited and never talked), and the rest (ended in the IVR). */
export function loadBars(rows: { offered: number; answered: number; lost: number; peak_concurrent?: number }[], label: (i: number) => string): LoadBar[] {
  return rows.map((r, i) => ({
    label: label(i),
    answered: r.answered,
    lost: r.lost,
    other: Math.max(0, r.offered - r.answered - r.lost),
    offered: r.offered,
    peak: r.peak_concurrent,
  }));
}

/** Lost calls counted by reason, most first. */
export function lostByReason(rows: { reason: string | null }[]): { reason: string; calls: number }[] {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.reason ?? "other", (counts.get(r.reason ?? "other") ?? 0) + 1);
  return [...counts].map(([reason, calls]) => ({ reason, calls })).sort((a, b) => b.calls - a.calls || (a.reason < b.reason ? -1 : 1));
}

/** A difference from the average, signed: "+2", "−1.5", "0"; null as "—". */
export function signed(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  const rounded = Number(value.toFixed(digits));
  if (rounded === 0) return "0";
  return `${rounded > 0 ? "+" : "−"}${Math.abs(rounded)}`;
}

/** How far from the average counts as standing out: a quarter of the average's size, at least `floor`. */
export function standsOut(diff: number | null | undefined, own: number | null | undefined, floor = 1): boolean {
  if (diff === null || diff === undefined || own === null || own === undefined) return false;
  const average = own - diff;
  return Math.abs(diff) >= Math.max(floor, Math.abs(average) * 0.25);
}
