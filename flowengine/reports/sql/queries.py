"""Each report as SQL over the report tables (`tables`) and the raw events.

The database counts, sums and averages (GROUP BY); Python only shapes the
rows: ratios and rounding as the in-memory reports do them, local hours
and weekdays (SQLite knows no time zones: the database groups calls into
15-minute buckets of epoch time, and each bucket lies in one local hour,
since every zone's offset is a whole number of quarter hours), and the
difference from the average.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from flowengine.reports.catalogue import COLUMNS, ReportFilter
from flowengine.reports.operators import MISS_REASONS, finish_hold, versus_average
from flowengine.reports.period import Period
from flowengine.reports.sql.dialect import time_bucket
from flowengine.reports.sql.tables import (
    report_calls,
    report_dials,
    report_holds,
    report_nodes,
    report_offers,
    report_op_transfers,
    report_ops,
    report_spans,
    report_stays,
)
from flowengine.reports.traffic import OPERATOR_TRANSFER_OUTCOMES, WEEKDAYS, transfer_key

__all__ = ["history", "load", "lost", "operators", "paths", "queues", "statuses", "transfers"]

BUCKET = 900


def _count(cond: Any) -> Any:
    return sa.func.sum(sa.case((cond, 1), else_=0))


def _mean(v: Any) -> float | None:
    return None if v is None else round(float(v), 3)


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den > 0 else None


def _between(column: Any, period: Period) -> Any:
    return sa.and_(column >= period.start, column < period.end)


# ---- queues ------------------------------------------------------------------------------------


def queues(conn: Connection, backend: str, period: Period, filt: ReportFilter) -> list[dict[str, Any]]:
    st = report_stays.c
    wait_within = sa.case(
        *((st.queue_id == q, st.wait <= t) for q, t in filt.thresholds.items()),
        else_=st.wait <= filt.default_threshold,
    ) if filt.thresholds else st.wait <= filt.default_threshold
    answered = st.outcome == "answered"
    abandoned = st.outcome == "abandoned"
    cond = [_between(st.entered, period)]
    if filt.queues is not None:
        cond.append(st.queue_id.in_(filt.queues))
    query = sa.select(
        st.queue_id,
        sa.func.count(),
        _count(st.overflow_in),
        _count(answered),
        _count(sa.and_(answered, st.wait.is_not(None), wait_within)),
        _count(abandoned),
        _count(sa.and_(abandoned, st.wait.is_not(None), st.wait < filt.short_abandon)),
        _count(sa.and_(abandoned, st.wait.is_not(None), wait_within)),
        sa.func.avg(sa.case((abandoned, st.wait))),
        *(_count(st.outcome == o) for o in ("timeout", "no_operators", "full", "no_answer", "overflow", "callback")),
        sa.func.avg(sa.case((answered, st.wait))),
        sa.func.avg(sa.case((answered, st.talk))),
        sa.func.max(st.wait),
    ).where(*cond).group_by(st.queue_id)
    rows: dict[str, dict[str, Any]] = {}
    within_abandons: dict[str, int] = {}

    def row(qid: str) -> dict[str, Any]:
        if qid not in rows:
            r = rows[qid] = dict.fromkeys(COLUMNS["queues"], 0)
            r.update(queue=qid, threshold=float(filt.thresholds.get(qid, filt.default_threshold)), avg_abandon_wait=None,
                     asa=None, avg_talk=None, avg_wrap_up=None, aht=None, longest_wait=None)
        return rows[qid]

    for (qid, offered, over_in, ans, ans_within, aband, short, aband_within, aband_wait,
         timeout, no_ops, full, no_answer, overflow, callback, asa, talk, longest) in conn.execute(query):  # fmt: skip
        r = row(qid)
        r.update(offered=offered, overflow_in=int(over_in), answered=int(ans), answered_within=int(ans_within),
                 abandoned=int(aband), short_abandoned=int(short), avg_abandon_wait=_mean(aband_wait),
                 timeout=int(timeout), no_operators=int(no_ops), full=int(full), no_answer=int(no_answer),
                 overflow_out=int(overflow), callbacks_requested=int(callback), asa=_mean(asa), avg_talk=_mean(talk),
                 longest_wait=None if longest is None else round(float(longest), 3))
        within_abandons[qid] = int(aband_within)
    ops = report_ops.c
    # callbacks that ended in the period (the queue stream's own events)
    query = (
        sa.select(ops.queue_id, ops.name, sa.func.count())
        .where(ops.name.in_(("callback_completed", "callback_given_up")), _between(ops.ts, period))
        .group_by(ops.queue_id, ops.name)
    )
    for qid, name, n in conn.execute(query):
        if qid and (filt.queues is None or qid in filt.queues):
            row(qid)["callbacks_completed" if name == "callback_completed" else "callbacks_given_up"] += n
    # wrap-up after the queue's calls (the operator stream names the queue)
    query = (
        sa.select(ops.queue_id, sa.func.avg(sa.func.coalesce(ops.duration, 0.0)))
        .where(ops.name == "operator_wrap_up_started", _between(ops.ts, period))
        .group_by(ops.queue_id)
    )
    for qid, wrap in conn.execute(query):
        if qid and (filt.queues is None or qid in filt.queues):
            row(qid)["avg_wrap_up"] = _mean(wrap)
    for qid, r in rows.items():
        if r["avg_talk"] is not None:
            r["aht"] = round((r["avg_talk"] or 0.0) + (r["avg_wrap_up"] or 0.0), 3)
        r["sl_offered"] = _ratio(r["answered_within"], r["offered"])
        r["sl_offered_minus_short"] = _ratio(r["answered_within"], r["offered"] - r["short_abandoned"])
        r["sl_with_abandons"] = _ratio(r["answered_within"] + within_abandons.get(qid, 0), r["offered"])
        r["sl_answered"] = _ratio(r["answered_within"], r["answered"])
    return [rows[q] for q in sorted(rows)]


# ---- operators ---------------------------------------------------------------------------------


def operators(conn: Connection, backend: str, period: Period, filt: ReportFilter) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    rings: dict[str, float | None] = {}

    def row(op: str) -> dict[str, Any]:
        if op not in rows:
            rows[op] = dict.fromkeys(COLUMNS["operators"], 0)
            rows[op]["operator"] = op
            rings[op] = None
        return rows[op]

    def wanted(op_col: Any, queue_col: Any | None) -> list[Any]:
        cond = [op_col.is_not(None)]
        if filt.operators is not None:
            cond.append(op_col.in_(filt.operators))
        if filt.queues is not None and queue_col is not None:
            cond.append(queue_col.in_(filt.queues))
        return cond

    of = report_offers.c
    answered = of.outcome == "answered"
    query = sa.select(
        of.operator_id,
        sa.func.count(),
        _count(answered),
        _count(of.outcome == "missed"),
        *(_count(sa.and_(of.outcome == "missed", of.reason == r)) for r in MISS_REASONS),
        _count(of.outcome == "cancelled"),
        sa.func.avg(sa.case((answered, of.ring_time))),
    ).where(_between(of.at, period), *wanted(of.operator_id, of.queue_id)).group_by(of.operator_id)
    for op, offered, ans, missed, *reasons, cancelled, ring in conn.execute(query):
        r = row(op)
        r.update(offered=offered, answered=int(ans), missed=int(missed), cancelled=int(cancelled))
        for reason, n in zip(MISS_REASONS, reasons, strict=True):
            r[f"missed_{reason}"] = int(n)
        rings[op] = ring
    st = report_stays.c
    query = sa.select(
        st.operator_id,
        sa.func.sum(sa.func.coalesce(st.talk, 0.0)),
        _count(st.completed_by == "caller"),
        _count(sa.and_(st.completed_by.is_not(None), st.completed_by != "caller")),
    ).where(st.outcome == "answered", _between(st.left_at, period), *wanted(st.operator_id, st.queue_id))
    for op, talk, by_caller, by_operator in conn.execute(query.group_by(st.operator_id)):
        r = row(op)
        r.update(talk_total=float(talk or 0.0), ended_by_caller=int(by_caller), ended_by_operator=int(by_operator))
    if filt.queues is None:
        di = report_dials.c
        query = sa.select(di.operator_id, sa.func.count(), _count(di.outcome == "answered")).where(
            _between(di.at, period), *wanted(di.operator_id, None)
        )
        for op, attempts, ans in conn.execute(query.group_by(di.operator_id)):
            r = row(op)
            r.update(transfers_attempted=attempts, direct_answered=int(ans), transfers_failed=attempts - int(ans))
    _operator_holds_and_transfers(conn, period, filt, row)
    ops = report_ops.c
    query = sa.select(ops.operator_id, sa.func.sum(sa.func.coalesce(ops.duration, 0.0))).where(
        ops.name == "operator_wrap_up_ended", _between(ops.ts, period), *wanted(ops.operator_id, None)
    )
    for op, wrap in conn.execute(query.group_by(ops.operator_id)):
        if filt.queues is None or op in rows:
            row(op)["wrap_up_total"] = float(wrap or 0.0)
    for op, r in rows.items():
        r["answer_rate"] = round(r["answered"] / r["offered"], 4) if r["offered"] else None
        r["avg_ring_time"] = _mean(rings[op])
        r["talk_total"] = round(r["talk_total"], 3)
        r["wrap_up_total"] = round(r["wrap_up_total"], 3)
        r["talk_avg"] = round(r["talk_total"] / r["answered"], 3) if r["answered"] else None
        finish_hold(r)
    versus_average(rows)
    return [rows[o] for o in sorted(rows)]


def _operator_holds_and_transfers(conn: Connection, period: Period, filt: ReportFilter, row: Any) -> None:
    """Hold and the operator's own transfers, begun in the period; under a
    queue filter only those in that queue's calls."""

    def chosen(table: sa.Table) -> list[Any]:
        cond = [_between(table.c.at, period), table.c.operator_id.is_not(None)]
        if filt.operators is not None:
            cond.append(table.c.operator_id.in_(filt.operators))
        if filt.queues is not None:
            cond.append(table.c.queue_id.in_(filt.queues))
        return cond

    ho = report_holds.c
    query = sa.select(ho.operator_id, sa.func.count(), sa.func.sum(ho.held)).where(*chosen(report_holds))
    for op, n, held in conn.execute(query.group_by(ho.operator_id)):
        row(op).update(hold_count=n, hold_total=float(held or 0.0))
    ot = report_op_transfers.c
    made = sa.and_(ot.outcome.is_not(None), ot.outcome != "refused")
    query = sa.select(ot.operator_id, sa.func.count(), _count(made), _count(ot.outcome == "answered")).where(
        *chosen(report_op_transfers)
    )
    for op, requested, n_made, answered in conn.execute(query.group_by(ot.operator_id)):
        row(op).update(transfers_requested=requested, transfers_made=int(n_made),
                       transfers_made_answered=int(answered), transfers_made_failed=int(n_made) - int(answered))


# ---- calls: load, lost, history, paths, transfers ----------------------------------------------


def _calls_in(period: Period, filt: ReportFilter) -> list[Any]:
    ca = report_calls.c
    cond = [_between(ca.started, period)]
    if filt.queues is not None:
        st = report_stays.c
        cond.append(sa.exists().where(st.call_id == ca.call_id, st.queue_id.in_(filt.queues)))
    return cond


def load(conn: Connection, backend: str, period: Period, filt: ReportFilter) -> dict[str, list[dict[str, Any]]]:
    ca = report_calls.c
    by_hour: list[dict[str, Any]] = [{"hour": h, "offered": 0, "answered": 0, "lost": 0, "peak_concurrent": 0} for h in range(24)]
    by_day: list[dict[str, Any]] = [{"weekday": d, "offered": 0, "answered": 0, "lost": 0} for d in WEEKDAYS]
    bucket = time_bucket(backend, ca.started, BUCKET)
    query = (
        sa.select(bucket, sa.func.count(), _count(ca.talked), _count(sa.and_(sa.not_(ca.talked), ca.queued, ca.lost_reason.is_not(None))))
        .where(*_calls_in(period, filt))
        .group_by(bucket)
    )
    for b, offered, ans, lost_n in conn.execute(query):
        local = period.local(int(b) * BUCKET)
        for r in (by_hour[local.hour], by_day[local.weekday()]):
            r["offered"] += offered
            r["answered"] += int(ans)
            r["lost"] += int(lost_n)
    # calls in progress at once: +1 at each start, -1 at each end (an end before a start at the same instant)
    cond = _calls_in(period, filt)
    points = sa.union_all(
        sa.select(ca.started.label("ts"), sa.literal(1).label("step")).where(*cond),
        sa.select(sa.func.coalesce(ca.ended, ca.started).label("ts"), sa.literal(-1).label("step")).where(*cond),
    ).subquery()
    running = sa.select(
        points.c.ts, points.c.step,
        sa.func.sum(points.c.step).over(order_by=(points.c.ts, points.c.step), rows=(None, 0)).label("now"),
    ).subquery()  # fmt: skip
    bucket = time_bucket(backend, running.c.ts, BUCKET)
    query = sa.select(bucket, sa.func.max(running.c.now)).where(running.c.step == 1).group_by(bucket)
    for b, peak in conn.execute(query):
        r = by_hour[period.local(int(b) * BUCKET).hour]
        r["peak_concurrent"] = max(r["peak_concurrent"], int(peak))
    return {"by_hour": by_hour, "by_weekday": by_day}


def lost(conn: Connection, backend: str, period: Period, filt: ReportFilter) -> list[dict[str, Any]]:
    ca = report_calls.c
    query = sa.select(ca.call_id, ca.started, ca.caller, ca.called, ca.last_queue, ca.lost_reason, ca.lost_detail).where(
        *_calls_in(period, filt), ca.lost_reason.is_not(None)
    )
    rows = [
        {"call_id": c, "started": period.local(t).isoformat(timespec="seconds"), "caller": caller, "called": called,
         "queue": queue, "reason": reason, "detail": detail}
        for c, t, caller, called, queue, reason, detail in conn.execute(query)
    ]  # fmt: skip
    rows.sort(key=lambda r: (r["started"], r["call_id"]))
    return rows


def history(conn: Connection, backend: str, period: Period, filt: ReportFilter) -> list[dict[str, Any]]:
    ca = report_calls.c
    query = sa.select(
        ca.call_id, ca.started, ca.called, ca.scenario_id, ca.scenario_version, ca.path, ca.last_queue, ca.operator, ca.result
    ).where(_between(ca.started, period), ca.caller == (filt.caller or ""))
    rows = [
        {"call_id": c, "started": period.local(t).isoformat(timespec="seconds"), "called": called,
         "scenario": f"{sid} v{ver}", "path": path, "queue": queue, "operator": op, "result": result}
        for c, t, called, sid, ver, path, queue, op, result in conn.execute(query)
    ]  # fmt: skip
    rows.sort(key=lambda r: (r["started"], r["call_id"]))
    return rows


def paths(conn: Connection, backend: str, period: Period, filt: ReportFilter) -> list[dict[str, Any]]:
    no = report_nodes.c
    cond = [_between(no.started, period)]
    if filt.scenario is not None:
        cond.append(no.scenario_id == filt.scenario)
    key = (no.scenario_id, no.scenario_version, no.node_id)
    entered: dict[tuple[Any, ...], int] = defaultdict(int)
    exits: dict[tuple[Any, ...], dict[str, int]] = defaultdict(dict)
    for sid, ver, node, exit, n in conn.execute(sa.select(*key, no.exit, sa.func.count()).where(*cond).group_by(*key, no.exit)):
        entered[(sid, ver, node)] += n
        if exit is not None:
            exits[(sid, ver, node)][exit] = n
    ca = report_calls.c
    hang_cond = [_between(ca.started, period), ca.hangup_by == "caller", ca.hangup_node.is_not(None), ca.hangup_node != ""]
    if filt.scenario is not None:
        hang_cond.append(ca.scenario_id == filt.scenario)
    hkey = (ca.scenario_id, ca.scenario_version, ca.hangup_node)
    hangups = {tuple(k): n for *k, n in conn.execute(sa.select(*hkey, sa.func.count()).where(*hang_cond).group_by(*hkey))}
    return [
        {"scenario": k[0], "version": k[1], "node": k[2], "entered": n, "exits": dict(sorted(exits[k].items())),
         "caller_hangups": hangups.get(k, 0)}
        for k, n in sorted(entered.items())
    ]  # fmt: skip


def transfers(conn: Connection, backend: str, period: Period, filt: ReportFilter) -> list[dict[str, Any]]:
    di = report_dials.c
    target = sa.func.coalesce(di.operator_id, di.target)
    outcomes = ("answered", "busy", "no_answer", "rejected")
    query = (
        sa.select(target, sa.func.max(di.operator_id), sa.func.count(), *(_count(di.outcome == o) for o in outcomes))
        .where(_between(di.at, period))
        .group_by(target)
    )
    rows = []
    for key, op, attempts, *counts in conn.execute(query):
        if filt.operators is not None and op not in filt.operators:
            continue
        r = {"target": key, "operator": op, "attempts": attempts, **{o: int(n) for o, n in zip(outcomes, counts, strict=True)}}
        r["failed"] = attempts - sum(int(n) for n in counts)
        r["success_rate"] = round(r["answered"] / attempts, 4)
        r.update(transfer="scenario", from_operator=None, target_kind="operator" if op is not None else "number",
                 hangup=0, refused=0, refused_reasons={})
        rows.append(r)
    rows += _operator_transfers(conn, period, filt)
    return sorted(rows, key=transfer_key)


def _operator_transfers(conn: Connection, period: Period, filt: ReportFilter) -> list[dict[str, Any]]:
    """The operators' own transfers per operator and target."""
    ot = report_op_transfers.c
    key = (ot.operator_id, ot.target)
    cond = [_between(ot.at, period), ot.operator_id.is_not(None)]
    query = sa.select(
        *key,
        sa.func.count(),
        *(_count(ot.outcome == o) for o in OPERATOR_TRANSFER_OUTCOMES),
        sa.func.max(ot.kind),
        sa.func.max(sa.case((ot.kind == "operator", ot.to_operator_id))),
    ).where(*cond).group_by(*key)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for op, target, attempts, *counts, kind, answerer in conn.execute(query):
        if filt.operators is not None and op not in filt.operators and answerer not in filt.operators:
            continue
        r = rows[(op, target)] = {
            "target": target, "operator": answerer, "attempts": attempts,
            **{o: int(n) for o, n in zip(OPERATOR_TRANSFER_OUTCOMES, counts, strict=True)},
            "success_rate": None, "transfer": "operator", "from_operator": op, "target_kind": kind, "refused": 0,
            "refused_reasons": {},
        }  # fmt: skip
        r["success_rate"] = round(r["answered"] / attempts, 4)
    query = (
        sa.select(*key, ot.reason, sa.func.count())
        .where(*cond, ot.outcome == "refused")
        .group_by(*key, ot.reason)
        .order_by(*key, ot.reason)
    )
    for op, target, reason, n in conn.execute(query):
        if (op, target) in rows:
            r = rows[(op, target)]
            r["refused"] += n
            r["refused_reasons"][reason or ""] = n
    for r in rows.values():
        r["refused_reasons"] = dict(sorted(r["refused_reasons"].items()))
    return [{c: r[c] for c in COLUMNS["transfers"]} for r in rows.values()]


# ---- statuses ----------------------------------------------------------------------------------


def statuses(
    conn: Connection, period: Period, filt: ReportFilter, horizon: float | None
) -> dict[str, dict[str, float]]:
    """Seconds per operator in each status and state, as
    `flowengine.acd.analysis.status_time.status_times` counts them: each
    span (`report_spans`) clipped to the period, the spans still open
    counted until `horizon` (where the streams end)."""
    sp = report_spans.c
    end = sa.func.coalesce(sp.end_at, horizon if horizon is not None else period.end)
    clipped_end = sa.case((end < period.end, end), else_=period.end)
    clipped_start = sa.case((sp.start_at > period.start, sp.start_at), else_=period.start)
    seconds = clipped_end - clipped_start
    cond = [sp.start_at < period.end, sa.or_(sp.end_at.is_(None), sp.end_at > period.start), seconds > 0]
    if filt.operators is not None:
        cond.append(sp.operator_id.in_(filt.operators))
    query = sa.select(sp.operator_id, sp.label, sa.func.sum(seconds)).where(*cond).group_by(sp.operator_id, sp.label)
    report: dict[str, dict[str, float]] = {}
    for op, label, total in conn.execute(query):
        if total is not None and round(float(total), 3) > 0:
            report.setdefault(op, {})[label] = round(float(total), 3)
    return report
