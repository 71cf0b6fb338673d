"""Decisions exported as Asterisk queue_log lines."""

from __future__ import annotations

from flowengine.acd import decisions as d
from flowengine.acd.analysis.queue_log import QueueLogWriter, format_line
from flowengine.acd.core import ACD

EPOCH = 1_700_000_000


def test_a_call_missed_once_then_answered_and_completed(make_centre):
    acd = ACD(make_centre("linear", n=2, wrap_up=0))
    log = QueueLogWriter(epoch_offset=EPOCH)
    lines = []
    lines += log.lines(0, acd.call_arrived(0, "1700000000.1", "q", caller="+79161234567"))
    lines += log.lines(10, acd.handle_timer(10))  # 901 does not answer
    lines += log.lines(13, acd.offer_answered(13, "1700000000.1", "902"))
    lines += log.lines(73, acd.call_completed(73, "1700000000.1", by="agent"))
    assert lines == [
        "1700000000|1700000000.1|q|NONE|ENTERQUEUE||+79161234567",
        "1700000010|1700000000.1|q|Agent/901|RINGNOANSWER|10000",
        "1700000013|1700000000.1|q|Agent/902|CONNECT|13|1700000000.1-902|3",
        "1700000073|1700000000.1|q|Agent/902|COMPLETEAGENT|13|60|1",
    ]


def test_abandon_timeout_full_and_empty(make_centre):
    acd = ACD(make_centre("ring_all", n=1, max_wait=30, max_length=2))
    log = QueueLogWriter(agent=lambda op: f"PJSIP/{op}", epoch_offset=EPOCH)
    out = []
    out += log.lines(0, acd.call_arrived(0, "a", "q"))
    out += log.lines(4, acd.call_abandoned(4, "a"))
    out += log.lines(5, acd.set_status(5, "901", "break", "lunch"))
    out += log.lines(6, acd.call_arrived(6, "b", "q"))
    out += log.lines(7, acd.call_arrived(7, "c", "q"))
    out += log.lines(8, acd.call_arrived(8, "x", "q"))
    out += log.lines(36, acd.handle_timer(36))
    assert out == [
        "1700000000|a|q|NONE|ENTERQUEUE||",
        "1700000004|a|q|PJSIP/901|RINGCANCELED|4000",
        "1700000004|a|q|NONE|ABANDON|1|1|4",
        "1700000005|NONE|NONE|PJSIP/901|PAUSEALL|lunch",
        "1700000006|b|q|NONE|ENTERQUEUE||",
        "1700000007|c|q|NONE|ENTERQUEUE||",
        "1700000008|x|q|NONE|FULL",
        "1700000036|b|q|NONE|EXITWITHTIMEOUT|1|1|30",
    ]


def test_overflow_is_an_exit_and_an_entry():
    log = QueueLogWriter(epoch_offset=EPOCH)
    log.lines(0, [d.Queued("a", "sales", 1, "555")])
    lines = log.lines(30, [d.Overflow("a", "sales", "support", 30, 2, 1, 3)])
    assert lines == [
        "1700000030|a|sales|NONE|EXITWITHTIMEOUT|2|1|30",
        "1700000030|a|support|NONE|ENTERQUEUE||555",
    ]


def test_status_changes_pause_and_unpause():
    log = QueueLogWriter()
    assert log.lines(
        5, [d.OperatorStatusChanged("901", "backoffice", None, "operator", "break", True)]
    ) == ["5|NONE|NONE|Agent/901|UNPAUSEALL|backoffice"]
    assert log.lines(6, [d.OperatorAutoBreak("901", 3, "auto_break: missed 3 calls")]) == []


def test_fields_cannot_break_the_format():
    assert (
        format_line(1.9, "id|1", "q\n", "a", "ENTERQUEUE", "", "x|y")
        == "1|id_1|q |a|ENTERQUEUE||x_y"
    )
