"""Static checks of scenarios: what can go wrong in a call, found before any call.

    from flowengine.validation import validate, validate_files, format_problem

`validate(scenario)` takes a loaded `Scenario` (load-time problems such as
malformed JSON, schema violations, unknown node types and bad expressions are
the loader's `ScenarioError`) and returns findings about the graph and its
data flow, each a `Problem` with severity, node id, code and message, sorted
by the node's position in the document. It also takes the partial graph of a
scenario that failed to load (`ScenarioError.partial`), so one bad node does
not hide the other problems. `validate_files(paths)` loads and validates
files (load problems first, then the graph's), resolving subscenario
references against the files given and `library`; `format_problem` renders
one finding for people. The rules are documented in docs/scenario-format.md
("Exits", "What flowengine validate checks").

Codes (see `CODES`): dangling_exit, unwired_exit, no_default, unreachable,
no_end, endless_loop, unassigned_variable, unknown_reference,
subscenario_cycle (scenarios that call each other without end),
media_after_hangup, dial_unrestricted (a number the caller chooses, dialled
without the node's `allow` patterns), dial_no_policy (a computed number no
policy will let through); load-time codes come from the loader (syntax,
unknown_type, expression, ...).
"""

from flowengine.validation.checks import CODES, validate
from flowengine.validation.files import format_problem, validate_files

__all__ = ["CODES", "format_problem", "validate", "validate_files"]
