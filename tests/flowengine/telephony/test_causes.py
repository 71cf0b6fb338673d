"""HangupCause: what each platform's codes mean, and what the engine sends.

These pairs are the table docs/backends.md prints; a SIP, ARI or ESL backend
relies on them to report the same cause for the same event.
"""

from __future__ import annotations

import pytest

from flowengine.telephony import DialOutcome, HangupCause


@pytest.mark.parametrize(("status", "cause", "q850", "outcome"), [
    (486, "busy", 17, DialOutcome.BUSY),
    (600, "busy", 17, DialOutcome.BUSY),
    (408, "no_answer", 18, DialOutcome.NO_ANSWER),
    (480, "no_answer", 19, DialOutcome.NO_ANSWER),
    (603, "rejected", 21, DialOutcome.REJECTED),
    (404, "failed", 1, DialOutcome.FAILED),
    (487, "cancelled", None, DialOutcome.CANCELLED),
    (503, "failed", 34, DialOutcome.FAILED),
    (488, "failed", 88, DialOutcome.FAILED),
    (499, "failed", None, DialOutcome.FAILED),  # any other final response
])
def test_a_sip_final_response_reads_as_a_normalised_cause(
    status: int, cause: str, q850: int | None, outcome: DialOutcome
) -> None:
    got = HangupCause.from_sip(status)
    assert (got.by, got.cause, got.sip_status, got.q850) == ("callee", cause, status, q850)
    assert got.dial_outcome is outcome


@pytest.mark.parametrize(("code", "cause", "sip"), [
    (16, "normal", None),
    (17, "busy", 486),
    (18, "no_answer", 408),
    (19, "no_answer", 480),
    (20, "unavailable", 480),
    (21, "rejected", 603),
    (26, "answered_elsewhere", 487),
    (1, "failed", 404),
    (34, "failed", 503),
    (38, "failed", 503),
    (111, "failed", None),
])
def test_a_q850_code_reads_as_a_normalised_cause(code: int, cause: str, sip: int | None) -> None:
    got = HangupCause.from_q850(code, by="system")
    assert (got.by, got.cause, got.sip_status, got.q850) == ("system", cause, sip, code)


def test_an_unavailable_subscriber_counts_as_no_answer_for_a_dial() -> None:
    assert HangupCause.from_q850(20).dial_outcome is DialOutcome.NO_ANSWER


@pytest.mark.parametrize(("cause", "sip", "q850"), [
    ("normal", 480, 16),
    ("busy", 486, 17),
    ("rejected", 603, 21),
    ("no_answer", 480, 19),
    ("failed", 503, 41),
    ("transferred_to_billing", 480, 16),  # a Hangup node's own word is sent as normal
])
def test_a_cause_the_engine_decides_before_answer_carries_what_it_sends(cause: str, sip: int, q850: int) -> None:
    got = HangupCause.of(cause)
    assert (got.by, str(got), got.sip_status, got.q850) == ("engine", cause, sip, q850)


def test_after_answer_the_end_is_a_bye_without_a_status_code() -> None:
    got = HangupCause.of("busy", answered=True)
    assert (got.sip_status, got.q850) == (None, 17)


def test_coerce_keeps_a_cause_and_makes_a_word_into_one() -> None:
    given = HangupCause.from_sip(486)
    assert HangupCause.coerce(given, by="engine") is given
    made = HangupCause.coerce("normal", by="caller", answered=True)
    assert (made.by, made.cause, made.sip_status, made.q850) == ("caller", "normal", None, 16)
    assert HangupCause.coerce(None, by="engine").cause == "normal"
