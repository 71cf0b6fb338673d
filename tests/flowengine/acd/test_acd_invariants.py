"""Property test: whatever happens, nobody busy is ever offered a call.

Random interleavings of arrivals, answers, failures, hang-ups, status changes,
operators vanishing and coming back, callbacks and timer ticks are fed to the
core; a shadow model rebuilt *only from the decisions* checks after every step
that each `Ring` goes to an operator who is present, in an available status,
idle (not ringing elsewhere, talking or in wrap-up), and that legs, calls and
queue counts stay consistent; that no call is offered after its caller
left, and no operator while on any call (one the ACD placed, or one bridged
outside it: `set_engaged`). Half the runs switch on the queue and operator
options (abandoned-caller resume, join-empty / leave-when-empty, leaving with
no operator, periodic announcements, available on demand, per-operator
retry delays, auto-break on no-answers only). With member levels and tier
rules (half the runs), no operator is rung for a caller who has not yet
waited long enough for their level.

Callbacks (asked for while waiting, or filed from outside a queue with their
own attempt limit) are followed too: a callback's caller-side misses never
exceed its attempt limit, the ACD gives up exactly at the limit, and once
everybody is back and the test stops interfering every callback has ended —
completed, given up, or cancelled.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowengine.acd import decisions as d
from flowengine.acd.core import ACD
from flowengine.errors import UsageError

STRATS = [
    "ring_all",
    "sequential",
    "cumulative",
    "random",
    "fewest_calls",
    "longest_idle",
    "priority",
    "round_robin",
    "linear",
    "skills",
    "personal_manager",
    "wrandom",
    "rrordered",
]
OPS = ["901", "902", "903", "904"]
STATUSES = [
    "available",
    "available",
    "not_available",
    "break",
    "training",
    "backoffice",
    "available_on_demand",
]
AVAILABLE = {
    "available_on_demand": True,
    "available": True,
    "not_available": False,
    "break": False,
    "training": False,
    "backoffice": True,
}


def make_centre(s1: str, s2: str, wrap: float, options: bool = False) -> dict:
    ops = [{"id": o, "extension": o, "skills": {"en": i * 2}} for i, o in enumerate(OPS, 1)]
    centre = _centre(ops, s1, s2, wrap)
    if options:
        a, b = centre["queues"]
        ops[0]["retry_delays"] = {"busy": 12, "no_answer": 3}
        a.update(
            abandoned_resume=30,
            leave_when_empty=["paused", "unavailable", "wrapup"],
            auto_break_on=["no_answer"],
            max_wait_no_operator=25,
            announce={"period": 40, "periodic": 15},
        )
        b.update(
            abandoned_resume=10,
            join_empty=["paused", "unavailable", "inuse"],
            max_wait_no_operator=20,
            max_wait_no_operator_reached=3,
        )
    return centre


def _centre(ops: list[dict], s1: str, s2: str, wrap: float) -> dict:
    return {
        "statuses": [
            {"id": "training", "available": False},
            {"id": "backoffice", "available": True},
        ],
        "operators": ops,
        "queues": [
            {
                "id": "a",
                "strategy": s1,
                "members": ["901", "902", "903"],
                "wrap_up": wrap,
                "ring_timeout": 7,
                "retry": 2,
                "callback": True,
                "max_wait": 200,
                "auto_break_after": 3,
                "overflow": {"after": 50, "to": "b"},
                "announce": {"period": 40},
                "retry_delays": {"rejected": 10},
                "personal_managers": {"7*": "902"},
                "skills": [{"after": 0, "required": {"en": 6}}, {"after": 20, "required": {}}],
            },
            {
                "id": "b",
                "strategy": s2,
                "members": ["902", "903", "904"],
                "wrap_up": 0,
                "ring_timeout": 5,
                "retry": 0,
                "max_length": 6,
                "no_operators": "unavailable",
            },
        ],
    }


def with_levels(c: dict) -> dict:
    """The same centre with member penalties and tier rules in both queues
    (and cumulative rung in groups)."""
    a, b = c["queues"]
    a["members"] = [
        {"operator": "901", "penalty": 1},
        {"operator": "902", "penalty": 0},
        {"operator": "903", "penalty": 2, "position": 1},
    ]
    a["tier_rules"] = {"wait": 8, "no_agent_no_wait": True}
    b["members"] = [{"operator": "902", "level": 1}, "903", {"operator": "904", "penalty": 3}]
    b["tier_rules"] = {"wait": 4, "multiply_by_level": True}
    for q, steps in ((a, [["902"], ["901", "903"]]), (b, [["903", "904"], ["902"]])):
        if q["strategy"] == "cumulative":  # in groups
            q["strategy_params"] = {"interval": 3, "steps": steps}
    return c


class Shadow:
    """What the decisions say about operators and calls."""

    def __init__(self, acd: ACD) -> None:
        self.acd = acd
        self.status = {o: "available" for o in OPS}
        self.present = dict.fromkeys(OPS, True)
        self.ringing: dict[str, str] = {}  # op -> call
        self.leg: dict[str, int] = {}  # op -> leg id of the current offer
        self.talking: dict[str, str] = {}  # op -> call
        self.wrap: set[str] = set()
        self.calls: dict[str, str] = {}  # queued call -> queue
        self.connected: dict[str, str] = {}  # call -> op
        self.left: set[str] = set()  # calls whose caller left (or that left unanswered)
        self.engaged = dict.fromkeys(OPS, 0)  # calls bridged outside the ACD
        self.on_demand_calls = dict.fromkeys(OPS, 0)  # answered since set available on demand
        #: callback call -> its attempt limit, set by the test before the input
        self.limits: dict[str, int] = {}
        self.callbacks: dict[str, list] = {}  # call -> [limit, misses, how it ended or None]
        # the clock of the input being fed and of the one before: decisions
        # of an input happened at or after `prev` (timers fire on the way)
        self.now = self.prev = 0.0
        self.entered: dict[str, float] = {}  # call -> earliest it can have entered its queue

    def clock(self, now: float) -> None:
        self.prev, self.now = self.now, now

    def level_wait(self, queue_id: str, op: str) -> float:
        """The wait a caller needs before `op`'s level opens (tier rules),
        from the statuses the decisions told so far; 0 without tier rules."""
        q = self.acd.centre.queue(queue_id)
        rules = q.tier_rules
        pen = {m.operator: m.penalty for m in q.members}
        levels = sorted(set(pen.values()))
        if rules is None or len(levels) < 2:
            return 0.0
        opens, at = 0.0, {levels[0]: 0.0}
        for below, lv in zip(levels, levels[1:], strict=False):
            staffed = [o for o, p in pen.items() if p == below and self.present[o]]
            if rules.no_agent_no_wait and not any(AVAILABLE[self.status[o]] for o in staffed):
                pass
            elif rules.multiply_by_level:
                opens = max(opens, rules.wait * lv)
            else:
                opens += rules.wait
            at[lv] = opens
        return at[pen[op]]

    def feed(self, out: list[d.Decision]) -> None:
        for x in out:
            if isinstance(x, d.Ring | d.CallbackDue):
                op = x.operator_id
                if self.ringing.get(op) == x.call_id and isinstance(x, d.Ring):
                    continue  # a further target of the same offer
                if x.call_id in self.calls:  # never rung for a level not reached yet
                    waited = self.now - self.entered[x.call_id]
                    need = self.level_wait(self.calls[x.call_id], op)
                    assert waited + 1e-6 >= need, f"{x}: waited {waited} < {need} for the level"
                assert self.present[op], f"{x}: operator removed"
                assert AVAILABLE[self.status[op]], f"{x}: status {self.status[op]}"
                assert op not in self.ringing, f"{x}: already ringing for {self.ringing[op]}"
                assert op not in self.talking, f"{x}: talking"
                assert op not in self.wrap, f"{x}: in wrap-up"
                assert not self.engaged[op], f"{x}: on a call bridged outside the ACD"
                assert x.call_id not in self.left, f"{x}: offered after its caller left"
                assert x.call_id in self.calls, f"{x}: call not queued"
                self.ringing[op] = x.call_id
                self.leg[op] = x.leg
            elif isinstance(x, d.StopRinging):
                if x.reason != "not_offered":
                    assert self.ringing.pop(x.operator_id) == x.call_id
            elif isinstance(x, d.OfferMissed):
                # a timeout comes with StopRinging first; a reported failure without
                self.ringing.pop(x.operator_id, None)
                cb = self.callbacks.get(x.call_id)
                if cb is not None and cb[2] is None:
                    cb[1] += 1
                    assert cb[1] <= cb[0], f"{x}: callback miss {cb[1]} of at most {cb[0]}"
            elif isinstance(x, d.Connected):
                assert self.ringing.pop(x.operator_id) == x.call_id
                if self.status[x.operator_id] == "available_on_demand":
                    self.on_demand_calls[x.operator_id] += 1
                    assert self.on_demand_calls[x.operator_id] == 1, f"{x}: a second call on demand"
                self.talking[x.operator_id] = x.call_id
                self.connected[x.call_id] = x.operator_id
                self.calls.pop(x.call_id)
            elif isinstance(x, d.Completed):
                self.talking.pop(x.operator_id)
                self.connected.pop(x.call_id)
                cb = self.callbacks.get(x.call_id)
                if cb is not None and cb[2] is None:
                    cb[2] = "completed"
                if self.acd.centre.queue(x.queue_id).wrap_up > 0:
                    self.wrap.add(x.operator_id)
            elif isinstance(x, d.WrapUpEnded):
                self.wrap.remove(x.operator_id)
            elif isinstance(x, d.Queued):
                self.calls[x.call_id] = x.queue_id
                self.entered[x.call_id] = self.now  # arrivals are inputs, never timers
            elif isinstance(x, d.Overflow):
                assert self.calls[x.call_id] == x.from_queue
                self.calls[x.call_id] = x.to_queue
                self.entered[x.call_id] = self.prev
            elif isinstance(x, d.Abandoned | d.MaxWaitReached | d.NoOperators | d.NoAnswer):
                self.calls.pop(x.call_id, None)
                self.left.add(x.call_id)
                cb = self.callbacks.get(x.call_id)
                if cb is not None and cb[2] is None:
                    assert not isinstance(x, d.MaxWaitReached | d.NoOperators), f"{x}: a pending callback"
                    if isinstance(x, d.NoAnswer):
                        assert cb[1] == cb[0] == x.rounds, f"{x}: given up after {cb[1]} of {cb[0]}"
                        cb[2] = "given_up"
                    else:
                        cb[2] = "cancelled"
            elif isinstance(x, d.CallbackRegistered):
                self.calls.setdefault(x.call_id, x.queue_id)  # a filed one was in no queue
                self.entered.setdefault(x.call_id, self.now)  # filing is an input
                self.callbacks[x.call_id] = [self.limits[x.call_id], 0, None]
            elif isinstance(x, d.OperatorStatusChanged):
                self.status[x.operator_id] = x.status
                self.on_demand_calls[x.operator_id] = 0
                if x.by == "admin":  # remove_operator / add_operator
                    self.present[x.operator_id] = x.reason != "removed"
        for call in self.calls:
            assert call not in self.connected
        # no leg may outlive its call
        for op, call in self.ringing.items():
            assert call in self.calls, (op, call)

    def check_counts(self) -> None:
        for q in ("a", "b"):
            assert self.acd.waiting_count(q) == sum(1 for v in self.calls.values() if v == q)


@settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    st.sampled_from(STRATS),
    st.sampled_from(STRATS),
    st.sampled_from([0.0, 5.0]),
    st.booleans(),
    st.lists(
        st.tuples(st.integers(0, 12), st.integers(0, 1000), st.floats(0, 9)),
        min_size=5,
        max_size=80,
    ),
    st.booleans(),
)
def test_random_interleavings_keep_every_invariant(s1, s2, wrap, levels, actions, options):
    centre = make_centre(s1, s2, wrap, options)
    acd = ACD(with_levels(centre) if levels else centre, seed=3)
    sh = Shadow(acd)
    now = 0.0
    n = 0
    for kind, k, dt in actions:
        now += dt
        try:
            if kind <= 2:
                n += 1
                out = acd.call_arrived(
                    now,
                    f"c{n}",
                    "ab"[k % 2],
                    priority=k % 3,
                    # few numbers, so callers call again (abandoned-caller resume)
                    caller=f"7{k % 5}" if k % 4 == 0 else f"8{k % 7}",
                )
            elif kind == 3 and sh.ringing:
                op = sorted(sh.ringing)[k % len(sh.ringing)]
                out = acd.offer_answered(now, sh.ringing[op], op, sh.leg[op])
            elif kind == 4 and sh.ringing:
                op = sorted(sh.ringing)[k % len(sh.ringing)]
                reason = ["no_answer", "busy", "rejected", "failed", "operator_gone"][k % 5]
                call = sh.ringing[op]
                out = acd.offer_failed(now, call, op, reason, sh.leg[op])
                timed_out = any(
                    isinstance(x, d.StopRinging) and (x.call_id, x.operator_id) == (call, op)
                    for x in out
                )
                if reason == "operator_gone" and not timed_out:
                    # reported by the driver: the core echoes no StopRinging / OfferMissed
                    sh.ringing.pop(op)
            elif kind == 5 and sh.connected:
                call = sorted(sh.connected)[k % len(sh.connected)]
                out = acd.call_completed(now, call, by="agent" if k % 2 else "caller")
            elif kind == 6 and sh.calls:
                out = acd.call_abandoned(now, sorted(sh.calls)[k % len(sh.calls)])
            elif kind == 7:
                op = OPS[k % 4]
                out = acd.set_status(now, op, STATUSES[k % len(STATUSES)], "r")
            elif kind == 8:
                op = OPS[k % 4]
                if sh.present[op]:
                    out = acd.remove_operator(now, op)
                else:
                    out = acd.add_operator(now, op)
            elif kind == 9 and sh.calls:
                call = sorted(sh.calls)[k % len(sh.calls)]
                if sh.calls[call] == "a" and acd.call_state(call) in ("waiting", "offering"):
                    sh.limits[call] = 3  # queue a: callback: true
                    out = acd.request_callback(now, call)
                else:
                    out = acd.handle_timer(now)
            elif kind == 10 and k % 4 == 0:
                # a Callback component files a request from outside the queues
                n += 1
                attempts = [None, 1, 2, 4][(k // 4) % 4]
                sh.limits[f"c{n}"] = attempts or 3  # no limit of its own: the queue's (or 3)
                out = acd.file_callback(
                    now, f"c{n}", "ab"[k % 8 // 4], caller=f"9{k % 3}", arrived=now - k % 50,
                    attempts=attempts, interval=float(k % 20),
                )
            elif kind == 11:
                op = OPS[k % 4]
                engaged = not sh.engaged[op] or k % 3 == 0
                # the timers due by `now` first (every input fires them first), so
                # what the shadow knows of the engagement holds for the answer
                sh.clock(now)
                sh.feed(acd.handle_timer(now))
                sh.engaged[op] += 1 if engaged else -1 if sh.engaged[op] else 0
                out = acd.set_engaged(now, op, engaged)
            else:
                t = acd.next_timer()
                if t is not None and t >= now:
                    now = t
                out = acd.handle_timer(now)
        except UsageError as e:  # only legitimate misuse may raise
            raise AssertionError(f"unexpected UsageError: {e}") from e
        sh.clock(now)
        sh.feed(out)
        sh.check_counts()
    # drain: let every timer run; the shadow stays consistent to the end
    for _ in range(500):
        t = acd.next_timer()
        if t is None or t > now + 5000:
            break
        now = max(now, t)
        sh.clock(now)
        sh.feed(acd.handle_timer(now))
    sh.check_counts()
    settle_callbacks(acd, sh, now)


def settle_callbacks(acd: ACD, sh: Shadow, now: float) -> None:
    """Everybody back and available; callers rung back answer every other time,
    conversations end: every callback must end, within its attempt limit."""
    sh.clock(now)
    for op in OPS:
        if not sh.present[op]:
            sh.feed(acd.add_operator(now, op))
        sh.feed(acd.set_status(now, op, "available"))
        while sh.engaged[op]:  # calls bridged outside the ACD end too
            sh.engaged[op] -= 1
            sh.feed(acd.set_engaged(now, op, False))
    turn = 0
    for _ in range(2000):
        if all(cb[2] is not None for cb in sh.callbacks.values()):
            break
        now += 1.0
        turn += 1
        if sh.ringing:
            op = sorted(sh.ringing)[0]
            call = sh.ringing[op]
            if turn % 2:
                out = acd.offer_answered(now, call, op, sh.leg[op])
            else:
                out = acd.offer_failed(now, call, op, "no_answer", sh.leg[op])
        elif sh.connected:
            out = acd.call_completed(now, sorted(sh.connected)[0])
        else:
            t = acd.next_timer()
            now = max(now, t) if t is not None else now
            out = acd.handle_timer(now)
        sh.clock(now)
        sh.feed(out)
    pending = {c: cb for c, cb in sh.callbacks.items() if cb[2] is None}
    assert not pending, f"callbacks never ended: {pending}"
