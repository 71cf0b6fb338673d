"""Reports computed from the stored event streams (docs/reports.md).

`fold_calls` turns call events into one story per call; the reports count
stories: `queue_report` (with the four service-level variants),
`operator_report`, `load_report`, `lost_calls`, `transfer_report`,
`caller_history`, `scenario_paths`. Every function takes a `Period` in the
centre's time zone, so the same stream gives the same report anywhere.
"""

from flowengine.reports.calls import CallStory, fold_calls
from flowengine.reports.operators import OPERATOR_COLUMNS, operator_report
from flowengine.reports.period import Period, parse_instant, parse_zone
from flowengine.reports.queues import QUEUE_COLUMNS, QueueSettings, queue_report
from flowengine.reports.traffic import (
    caller_history,
    load_report,
    lost_calls,
    scenario_paths,
    transfer_report,
)

__all__ = [
    "OPERATOR_COLUMNS",
    "QUEUE_COLUMNS",
    "CallStory",
    "Period",
    "QueueSettings",
    "caller_history",
    "fold_calls",
    "load_report",
    "lost_calls",
    "operator_report",
    "parse_instant",
    "parse_zone",
    "queue_report",
    "scenario_paths",
    "transfer_report",
]
