"""The run loop of one call.

    node = entry
    while node: exit = await node.run(ctx); node = scenario.next(node, exit)

around which sit the guards a call centre needs: a step limit, a per-node
repeat guard, a maximum call duration (``settings.max_call_duration``: the
call ends with cause ``max_duration``, interrupting the running node like a
hangup), the node's "error" exit or else the scenario's error handler,
hangup as a priority event that interrupts the running node, and the
"after hangup" entry for post-processing. Nothing a node does can escape its
own call: every exception ends in an event and a decided exit.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from flowengine.components.node import ERROR_EXIT
from flowengine.errors import NodeError
from flowengine.events import (
    CallEnded,
    CallHungUp,
    NodeFailed,
    ScenarioEntered,
)
from flowengine.expr import ExpressionError, NoCentreError

if TYPE_CHECKING:
    from flowengine.runtime.context import CallContext
    from flowengine.scenario.compiled import Scenario

log = logging.getLogger("flowengine.runtime.interpreter")

#: A walk yields to the event loop every this many steps, so that a call busy
#: in a loop of instant nodes (Assign, If, Menu) cannot starve the other calls
#: until its step limit (which settings allow up to a million) is reached.
YIELD_EVERY = 50

#: ...and also before the next node once costly work (regex matching, counted
#: in evaluation steps by `CallContext.note_work`) exceeds this, so that a few
#: heavy nodes in a row cannot hold the loop for long either.
YIELD_AFTER_WORK = 2000

#: Hangup cause when ``settings.max_call_duration`` ends a call.
MAX_DURATION_CAUSE = "max_duration"

#: Deepest nesting of Subscenario "call" mode in one call (scenario A calls B
#: calls A ...): beyond it the call ends as an error (`subscenario_depth`),
#: far below where Python itself would run out of stack.
MAX_CALL_DEPTH = 32


class _CallerHungUp(Exception):
    """Internal: the call is over while a node was running (the caller hung up,
    or a Hangup node inside a called subscenario ended it); stop walking."""

    exit = "hangup"


class _CallAborted(_CallerHungUp):
    """Internal: the engine ends the call from deep inside (a failure no
    "error" exit may handle, such as runaway subscenario recursion)."""

    exit = "error"


async def run_call(ctx: CallContext) -> None:
    """Interpret the call from the main entry to the end of post-processing."""
    call = ctx.call
    task = asyncio.current_task()
    assert task is not None

    def interrupt(cause: str) -> None:
        ctx.caller_hung_up = True
        node = ctx.scenario.nodes.get(ctx.node_id or "")
        # Nodes such as Record finish by themselves when the media ends and
        # must keep what they captured; everything else is interrupted now.
        if node is None or not getattr(node, "completes_on_hangup", False):
            task.cancel("caller hung up")

    def time_is_up() -> None:
        if call.active and not ctx.caller_hung_up:
            ctx.end_cause = MAX_DURATION_CAUSE
            ctx.caller_hung_up = True
            task.cancel("maximum call duration reached")

    call.on_hangup = interrupt
    deadline = asyncio.get_running_loop().call_later(ctx.scenario.settings.max_call_duration, time_is_up)
    try:
        try:
            await walk(ctx, ctx.scenario.main_entry)
        except _CallerHungUp:
            pass
        finally:
            deadline.cancel()
        call.on_hangup = None
        if call.active:
            await call.hangup(ctx.end_cause)
            emit_hung_up(ctx, ctx.node_id, ctx.end_cause, "engine")
        else:
            emit_hung_up(ctx, ctx.node_id, call.hangup_cause or "normal", call.hangup_by or "caller")
        entry = ctx.scenario.after_hangup_entry
        if entry is not None:
            ctx.after_hangup = True
            try:
                await walk(ctx, entry)
            except _CallAborted:  # the engine ended post-processing (runaway recursion)
                pass
    except asyncio.CancelledError:
        # Cancelled from outside (engine shutdown): leave the line cleanly,
        # and say so in the stream like any other hangup.
        if call.active:
            call.on_hangup = None
            await call.hangup("shutdown")
            emit_hung_up(ctx, ctx.node_id, "shutdown", "engine")
        raise
    finally:
        call.on_hangup = None
        ctx.emit(
            CallEnded,
            duration=round(ctx.elapsed(), 6),
            steps=ctx.steps,
            hangup_cause=call.hangup_cause or "normal",
        )


def emit_hung_up(ctx: CallContext, node_id: str | None, cause: str, by: str) -> None:
    """`call_hung_up`, with the SIP status and Q.850 code the backend knows."""
    known = ctx.call.cause
    ctx.emit(
        CallHungUp,
        cause=cause,
        by=by,
        node_id=node_id,
        sip_status=known.sip_status if known is not None else None,
        q850=known.q850 if known is not None else None,
    )


async def walk(ctx: CallContext, node_id: str | None) -> None:
    """Walk the current scenario from `node_id` until a terminal node or an unwired exit."""
    # Every guard below runs once per node of every call: the loop keeps what
    # it reads often in locals (refreshed when a Subscenario jump switches
    # scenario), which is a measurable share of a short call's cost.
    scenario = ctx.scenario
    settings = scenario.settings
    max_steps, max_visits = settings.max_steps, settings.max_node_visits
    nodes, wiring = scenario.nodes, scenario.wiring
    visits_of = ctx.visits
    call = ctx.call
    while node_id is not None:
        steps = ctx.steps + 1
        if steps % YIELD_EVERY == 0 or ctx.work > YIELD_AFTER_WORK:
            ctx.work = 0
            await _pause(ctx)
        if ctx.scenario is not scenario:  # a called Subscenario returned
            scenario = ctx.scenario
            settings = scenario.settings
            max_steps, max_visits = settings.max_steps, settings.max_node_visits
            nodes, wiring = scenario.nodes, scenario.wiring
        node = nodes.get(node_id)
        if node is None:
            ctx.emit(NodeFailed, node_id=node_id, code="missing_node", message=f"exit leads to missing node '{node_id}'")
            ctx.end_cause = "error"
            _end_on_failure(ctx)
            return
        ctx.steps = steps
        # keyed by the node itself: ids are unique only within one scenario
        visits = visits_of.get(node, 0) + 1
        visits_of[node] = visits
        ctx.node_id = node_id
        ctx.node_entered(node_id, node.type_name)
        if steps > max_steps:
            # A hard stop: following "error" exits from here could cycle for
            # ever (every further node fails the same way), so the call ends.
            ctx.emit(
                NodeFailed,
                node_id=node_id,
                code="step_limit",
                message=f"step limit of {max_steps} reached",
            )
            ctx.node_left(node_id, ERROR_EXIT)
            ctx.end_cause = "error"
            return
        if visits > max_visits:
            exit_name = _node_failed(
                ctx, node_id, "repeat_limit", f"node entered more than {max_visits} times"
            )
        elif node.needs_media and call.cause is not None:
            exit_name = _node_failed(ctx, node_id, "no_media", "the caller has hung up")
        else:
            try:
                exit_name = await node.run(ctx)
            except asyncio.CancelledError:
                hung_up = _absorb_hangup(ctx)
                ctx.node_left(node_id, "hangup" if hung_up else "cancelled")
                if hung_up:
                    raise _CallerHungUp() from None
                raise
            except _CallerHungUp as stop:
                ctx.node_left(node_id, stop.exit)
                raise
            except ExpressionError as exc:
                code = exc.code if isinstance(exc, NoCentreError) else "expression"
                exit_name = _node_failed(ctx, node_id, code, exc.message, exc.column)
            except NodeError as exc:
                exit_name = _node_failed(ctx, node_id, exc.code, str(exc))
            except Exception as exc:  # a bug in a handler must not touch other calls
                log.exception("node %s (%s) crashed in call %s", node_id, node.type_name, ctx.call_id)
                exit_name = _node_failed(ctx, node_id, "internal", f"{type(exc).__name__}: {exc}")
        terminal = node.terminal
        if (
            exit_name not in node.all_exits
            and exit_name != ERROR_EXIT
            and not terminal
            and ctx.jump is None
        ):
            # A node type returned an exit it never declared: a bug in that
            # type, reported like any failure rather than silently ending.
            exit_name = _node_failed(
                ctx, node_id, "internal", f"'{node.type_name}' returned undeclared exit '{exit_name}'"
            )
        if call.cause is not None and not terminal and not ctx.after_hangup:
            # The call is over while the node ran: the caller hung up during a
            # node that completes on hangup (Record), or the node handed the
            # call away (blind transfer). The main walk stops here.
            ctx.node_left(node_id, exit_name)
            raise _CallerHungUp()
        ctx.node_left(node_id, exit_name)
        if ctx.jump is not None:
            target, entry = ctx.jump
            ctx.jump = None
            ctx.scenario = scenario = target
            settings = target.settings
            max_steps, max_visits = settings.max_steps, settings.max_node_visits
            nodes, wiring = target.nodes, target.wiring
            ctx.emit(ScenarioEntered, scenario_id=target.id, scenario_version=target.version, mode="jump", node_id=node_id)
            node_id = entry
            continue
        if terminal:
            return
        next_id = wiring[node_id].get(exit_name)
        if next_id is None and exit_name == ERROR_EXIT:
            next_id = _error_route(ctx)
            if next_id is None:
                ctx.end_cause = "error"
                _end_on_failure(ctx)
        node_id = next_id


def _end_on_failure(ctx: CallContext) -> None:
    """A failure nothing handled ends the call with cause "error" — inside a
    called subscenario too: the calling scenario does not go on as if the
    subscenario had returned."""
    if ctx.call_depth > 0:
        raise _CallAborted()


def _absorb_hangup(ctx: CallContext) -> bool:
    """Was this cancellation the caller hanging up? Then it is absorbed (the
    task may await again: the after-hangup entry still runs) and the walk ends."""
    if ctx.caller_hung_up and not ctx.after_hangup:
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
        return True
    return False


async def _pause(ctx: CallContext) -> None:
    """Let other calls run; a caller hangup arriving meanwhile ends the walk."""
    try:
        await asyncio.sleep(0)
    except asyncio.CancelledError:
        if _absorb_hangup(ctx):
            raise _CallerHungUp() from None
        raise


def _node_failed(ctx: CallContext, node_id: str, code: str, message: str, column: int | None = None) -> str:
    """Record the failure; the walk then follows the "error" exit or the handler."""
    wired = ctx.scenario.next(node_id, ERROR_EXIT)
    handler = ctx.scenario.settings.error_handler
    handled_by = wired or (handler if handler and not ctx.in_error_handler else None)
    ctx.emit(NodeFailed, node_id=node_id, code=code, message=message, column=column, handled_by=handled_by)
    return ERROR_EXIT


def _error_route(ctx: CallContext) -> str | None:
    """No "error" exit wired: go to the scenario's error handler once, else end."""
    handler = ctx.scenario.settings.error_handler
    if handler and not ctx.in_error_handler:
        ctx.in_error_handler = True
        return handler
    return None


async def call_subscenario(ctx: CallContext, target: Scenario, node_id: str) -> None:
    """Run `target` from its main entry and come back (Subscenario "call" mode).

    Variables are shared; the caller's scenario is restored afterwards.
    """
    if ctx.call_depth >= MAX_CALL_DEPTH:
        ctx.emit(
            NodeFailed,
            node_id=node_id,
            code="subscenario_depth",
            message=f"subscenarios nested more than {MAX_CALL_DEPTH} deep (a scenario calls itself in a loop?)",
        )
        ctx.end_cause = "error"
        raise _CallAborted()
    outer = ctx.scenario
    outer_handler = ctx.in_error_handler
    ctx.call_depth += 1
    ctx.scenario = target
    ctx.in_error_handler = False
    ctx.emit(ScenarioEntered, scenario_id=target.id, scenario_version=target.version, mode="call", node_id=node_id)
    try:
        await walk(ctx, target.main_entry)
    finally:
        ctx.call_depth -= 1
        ctx.scenario = outer
        ctx.in_error_handler = outer_handler
        ctx.node_id = node_id
    if not ctx.after_hangup and not ctx.call.active:
        # A Hangup node (or a transfer) inside the subscenario ended the call:
        # the calling scenario must not go on talking to nobody.
        raise _CallerHungUp()
    ctx.emit(ScenarioEntered, scenario_id=outer.id, scenario_version=outer.version, mode="return", node_id=node_id)
