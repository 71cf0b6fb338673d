"""The built-in component catalogue: one module per node type.

Importing this package registers every built-in type in
`flowengine.components.registry.registry` (explicitly, one import per module).
"""

from nodes import (  # noqa: F401
    assign,
    callback,
    gather,
    hangup,
    http_request,
    if_node,
    menu,
    notify,
    play,
    queue,
    recognize,
    record,
    return_node,
    say,
    schedule,
    start,
    subscenario,
    transfer,
)
