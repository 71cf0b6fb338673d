"""`flowengine simulate` and `flowengine erlang` refuse hostile numbers with the option named."""

from __future__ import annotations

import pytest
from scenario_builders import PER_NUMBER_IVR

from flowengine.cli import main


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--arrivals", "nan/h", "--aht", "180"], "argument --arrivals: arrival rate 'nan/h' is out of range"),
        (["--arrivals", "inf", "--aht", "180"], "argument --arrivals"),
        (["--arrivals", "-5/h", "--aht", "180"], "argument --arrivals"),
        (["--arrivals", "lots", "--aht", "180"], "argument --arrivals: arrival rate 'lots' is not like 400/h"),
        (["--arrivals", "400/h", "--aht", "0"], "argument --aht: 0 is out of range"),
        (["--arrivals", "400/h", "--aht", "nan"], "argument --aht: 'nan' is not a finite number"),
        (["--arrivals", "400/h", "--aht", "180", "--operators", "-3"], "argument --operators: -3 is out of range"),
        (["--arrivals", "400/h", "--aht", "180", "--operators", "10000000"], "argument --operators"),
        (["--arrivals", "400/h", "--aht", "180", "--target-sl", "1.5"], "argument --target-sl: 1.5 is out of range"),
        (["--arrivals", "400/h", "--aht", "180", "--patience", "-inf"], "argument --patience"),
        (["--arrivals", "400/h", "--aht", "180", "--threshold", "1e9"], "argument --threshold"),
        (["--arrivals", "400/h", "--aht", "180", "--target-sl", "nan"], "argument --target-sl: 'nan' is not a finite number"),
        (["--arrivals", "400/h", "--aht", "180", "--target-asa", "-1"], "argument --target-asa: -1 is out of range"),
        (["--arrivals", "400/h", "--aht", "1e12"], "argument --aht"),
        (["--arrivals", "1e400/h", "--aht", "180"], "argument --arrivals"),
    ],
)
def test_erlang_bad_numbers_name_the_option(capsys: pytest.CaptureFixture[str], args: list[str], words: str) -> None:
    with pytest.raises(SystemExit) as info:
        main(["erlang", *args])
    assert info.value.code == 2
    assert words in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--hours", "inf"], "argument --hours"),
        (["--hours", "0"], "argument --hours"),
        (["--replications", "0"], "argument --replications"),
        (["--replications", "1e3"], "argument --replications: '1e3' is not a whole number"),
        (["--warmup", "-1"], "argument --warmup"),
        (["--input", "x1"], "argument --input"),
        (["--answer-after", "nan"], "argument --answer-after"),
        (["--seed", "-1"], "argument --seed: -1 is out of range"),
        (["--threshold", "nan"], "argument --threshold"),
        (["--patience", "0"], "argument --patience: 0 is out of range"),
        (["--operators", "0"], "argument --operators"),
        (["--warmup", "1e9"], "argument --warmup"),
    ],
)
def test_simulate_bad_numbers_name_the_option(capsys: pytest.CaptureFixture[str], args: list[str], words: str) -> None:
    with pytest.raises(SystemExit) as info:
        main(["simulate", str(PER_NUMBER_IVR), "--arrivals", "400/h", "--aht", "180", "--operators", "5", *args])
    assert info.value.code == 2
    assert words in capsys.readouterr().err


def test_simulate_that_would_run_for_hours_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--arrivals", "100000/h", "--aht", "180", "--operators", "5", "--hours", "100", "--replications", "100"]
    assert main(["simulate", str(PER_NUMBER_IVR), *args]) == 2
    err = capsys.readouterr().err
    assert "simulated calls" in err and "--replications" in err


def test_erlang_load_beyond_the_formulas_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["erlang", "--arrivals", "1000000/h", "--aht", "3600"]) == 2
    assert "Erlang" in capsys.readouterr().err


def test_unreachable_staffing_target_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["erlang", "--arrivals", "400/h", "--aht", "180", "--patience", "1", "--target-asa", "0"]) == 1
    err = capsys.readouterr().err
    assert "cannot be reached" in err and "Traceback" not in err


def test_a_service_level_of_one_is_unreachable_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["erlang", "--arrivals", "400/h", "--aht", "180", "--target-sl", "1"]) == 2
    err = capsys.readouterr().err
    assert "--target-sl 1" in err and "cannot be reached" in err
    assert main(["erlang", "--arrivals", "400/h", "--aht", "180", "--target-sl", "0.99"]) == 0
