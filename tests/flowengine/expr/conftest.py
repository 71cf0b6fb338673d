from __future__ import annotations

import datetime
import random

import pytest

from flowengine.expr import MappingEnv

MSK = datetime.timezone(datetime.timedelta(hours=3))
MONDAY_10AM = datetime.datetime(2026, 11, 23, 10, 7, 30, tzinfo=MSK)


@pytest.fixture
def env() -> MappingEnv:
    return MappingEnv(
        variables={
            "CALLEDID": "74951234567",
            "NAME": "Anna",
            "ОТДЕЛ": "продажи",
            "position": 2,
            "price": 2.5,
            "flag": True,
            "nothing": None,
            "empty": "",
            "zero": 0,
        },
        called="74951234567",
        caller="+79161234567",
        clock=MONDAY_10AM,
        last_digits="42",
        generator=random.Random(7),
    )
