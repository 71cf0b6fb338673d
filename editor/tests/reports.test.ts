import { describe, expect, it } from "vitest";
import {
  addDays, checkFilters, loadBars, lostByReason, preset, reportQuery, searchOf, serviceLevel, signed, standsOut, totals,
  trendBuckets, type Filters,
} from "../src/pages/reports/model";
import { pooled } from "../src/pages/reports/useAsync";

const f: Filters = { from: "2026-11-23", to: "2026-11-23", queue: "", department: "", operator: "" };

describe("report filters", () => {
  it("the last day is included: the API's `to` is the next day", () => {
    expect(reportQuery(f)).toEqual({ from: "2026-11-23", to: "2026-11-24" });
    expect(reportQuery({ ...f, to: "2026-12-31", queue: "sales", operator: "901" })).toEqual({
      from: "2026-11-23", to: "2027-01-01", queue: ["sales"], operator: ["901"],
    });
  });
  it("the CSV address carries the same filters", () => {
    expect(searchOf(reportQuery({ ...f, department: "support" }), { format: "csv" })).toBe(
      "from=2026-11-23&to=2026-11-24&department=support&format=csv",
    );
  });
  it("calendar days across months and a DST change", () => {
    expect(addDays("2026-02-28", 1)).toBe("2026-03-01");
    expect(addDays("2026-03-29", 1)).toBe("2026-03-30");
    expect(addDays("2026-01-01", -1)).toBe("2025-12-31");
    expect(preset("week", "2026-11-23")).toEqual({ from: "2026-11-17", to: "2026-11-23" });
    expect(preset("yesterday", "2026-11-01")).toEqual({ from: "2026-10-31", to: "2026-10-31" });
  });
  it("bad periods are named", () => {
    expect(checkFilters(f)).toBeNull();
    expect(checkFilters({ ...f, from: "" })).toBe("from");
    expect(checkFilters({ ...f, to: "23.11.2026" })).toBe("to");
    expect(checkFilters({ ...f, from: "2026-11-24" })).toBe("order");
  });
});

describe("service-level trend", () => {
  it("one day: the hours that had calls", () => {
    expect(trendBuckets(f, [14, 9, 23])).toEqual([
      { label: "09:00", from: "2026-11-23T09:00", to: "2026-11-23T10:00" },
      { label: "14:00", from: "2026-11-23T14:00", to: "2026-11-23T15:00" },
      { label: "23:00", from: "2026-11-23T23:00", to: "2026-11-24" },
    ]);
  });
  it("several days: one bucket a day, the last ones at most", () => {
    const days = trendBuckets({ ...f, from: "2026-11-29", to: "2026-12-02" }, []);
    expect(days.map((d) => d.label)).toEqual(["29.11", "30.11", "01.12", "02.12"]);
    expect(days[3]).toEqual({ label: "02.12", from: "2026-12-02", to: "2026-12-03" });
    expect(trendBuckets({ ...f, from: "2026-01-01", to: "2026-12-31" }, [], 31)).toHaveLength(31);
  });
  it("service level is answered within the threshold over offered, summed over queues", () => {
    expect(serviceLevel([{ answered_within: 3, offered: 4 }, { answered_within: 1, offered: 4 }])).toBe(0.5);
    expect(serviceLevel([{ answered_within: 0, offered: 0 }])).toBeNull();
  });
});

describe("chart figures", () => {
  it("load bars split offered into answered, lost and the rest", () => {
    const bars = loadBars([{ offered: 5, answered: 2, lost: 1, peak_concurrent: 3 }], () => "09");
    expect(bars).toEqual([{ label: "09", answered: 2, lost: 1, other: 2, offered: 5, peak: 3 }]);
  });
  it("lost calls by reason, most first", () => {
    const rows = [{ reason: "ivr_hangup" }, { reason: "abandoned" }, { reason: "abandoned" }, { reason: null }];
    expect(lostByReason(rows)).toEqual([
      { reason: "abandoned", calls: 2 }, { reason: "ivr_hangup", calls: 1 }, { reason: "other", calls: 1 },
    ]);
  });
  it("headline totals weight waits by answered calls", () => {
    const row = (offered: number, answered: number, asa: number | null, within: number) =>
      ({ offered, answered, abandoned: offered - answered, asa, aht: asa, answered_within: within }) as never;
    const t = totals([row(4, 3, 10, 3), row(2, 1, 30, 0)]);
    expect(t).toMatchObject({ offered: 6, answered: 4, abandoned: 2, asa: 15, aht: 15 });
    expect(t.sl).toBeCloseTo(0.5);
    expect(totals([]).asa).toBeNull();
  });
  it("differences from the average", () => {
    expect(signed(2)).toBe("+2");
    expect(signed(-1.54)).toBe("−1.5");
    expect(signed(0.01)).toBe("0");
    expect(signed(null)).toBe("—");
    // 12 answered against an average of 6 stands out; 7 against 6 does not
    expect(standsOut(6, 12)).toBe(true);
    expect(standsOut(1, 7, 1)).toBe(false);
    expect(standsOut(null, 3)).toBe(false);
  });
});

describe("pooled requests", () => {
  it("keeps the order and never runs more than the limit at once", async () => {
    let running = 0;
    let most = 0;
    const jobs = [30, 5, 20, 1, 10].map((ms, i) => async () => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, ms));
      running -= 1;
      return i;
    });
    expect(await pooled(jobs, 2)).toEqual([0, 1, 2, 3, 4]);
    expect(most).toBe(2);
  });
});
