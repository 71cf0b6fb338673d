"""Automatic call distribution: operators, queues, strategies, Erlang maths.

The pieces, each in its own module:

* `model` — the centre file (operators, statuses, queues) and `load_centre`;
* `core` — `ACD`, the sans-IO distributor: inputs take ``now``, return
  `decisions`, and `next_timer()` says when to call `handle_timer`. One
  object composed of parts with one job each:
  `calls` (joining a queue, waiting, callbacks, overflow, every way out),
  `dispatch` (matching free operators with waiting calls; rounds of offers),
  `offers` (one offer from ring to outcome), `staffing` (statuses, presence,
  staffed queues) and `queries` (read-only views), over `bookkeeping` (the
  shared state, declared once, and its indexes);
* `decisions` — what the core returns (frozen dataclasses, one base class);
* `strategies` — one module per distribution strategy, and their registry;
* `operators` — operator status/state machine and timing;
* `state` — the core's records of calls, queues and offers;
* `pool`, `timers` — the core's indexes (free operators, keyed timers);
* `estimate` — estimated waiting time for announcements;
* `calendar` — the centre's time zone: where this hour and today began;
* `restore` — answered counts rebuilt from the operator stream after a restart;
* `driver` — the asyncio driver that runs the core on the loop's clock;
* `testing` — a fake-clock harness with scripted virtual operators;
* `analysis` — off-line: `erlang` (Erlang B / C / A, staffing for a target),
  `traffic` (a discrete-event harness running the core under Poisson load),
  `drawn` (pre-drawn calls replayed through the core, for fair comparisons),
  `status_time` (time in each status over any period, from the operator stream),
  `queue_log` and `export` (Asterisk ``queue_log``).

See ``docs/acd.md``.
"""

from flowengine.acd import decisions
from flowengine.acd.analysis.erlang import (
    QueueMetrics,
    agents_for_target,
    erlang_a,
    erlang_b,
    erlang_c,
)
from flowengine.acd.core import ACD, FAIL_REASONS
from flowengine.acd.model import (
    Centre,
    CentreError,
    OperatorSpec,
    QueueSpec,
    load_centre,
    parse_centre,
)
from flowengine.acd.strategies import STRATEGIES

__all__ = [
    "ACD",
    "FAIL_REASONS",
    "STRATEGIES",
    "Centre",
    "CentreError",
    "OperatorSpec",
    "QueueMetrics",
    "QueueSpec",
    "agents_for_target",
    "decisions",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "load_centre",
    "parse_centre",
]
