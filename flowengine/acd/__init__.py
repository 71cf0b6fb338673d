"""Automatic call distribution: operators, queues, strategies, Erlang maths.

The pieces, each in its own module:

* `model` — the centre file (operators, statuses, queues) and `load_centre`;
* `core` — `ACD`, the sans-IO distributor: inputs take ``now``, return
  `decisions`, and `next_timer()` says when to call `handle_timer`;
* `strategies` — one module per distribution strategy, and their registry;
* `operators` — operator status/state machine and timing;
* `pool`, `state`, `timers` — the core's indexes and bookkeeping;
* `estimate` — estimated waiting time for announcements;
* `erlang` — Erlang B / C / A and staffing for a target;
* `traffic` — a discrete-event harness running the core under Poisson load;
* `queue_log` — Asterisk ``queue_log`` export;
* `testing` — a fake-clock harness with scripted virtual operators.

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
