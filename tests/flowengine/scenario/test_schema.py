"""`flowengine schema`: the JSON Schema integrators validate documents against."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest
from scenario_builders import PER_NUMBER_IVR, doc, hangup, load, node, say, start

from flowengine.cli import main
from flowengine.components.registry import builtin_registry


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    from flowengine.scenario.schema import scenario_json_schema

    return scenario_json_schema()


@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def example() -> dict[str, Any]:
    return json.loads(PER_NUMBER_IVR.read_text(encoding="utf-8"))


def test_cli_prints_valid_json_schema(capsys: pytest.CaptureFixture[str], schema: dict[str, Any]) -> None:
    assert main(["schema"]) == 0
    printed = json.loads(capsys.readouterr().out)
    jsonschema.Draft202012Validator.check_schema(printed)
    assert printed == json.loads(json.dumps(schema))
    assert printed["$schema"].endswith("2020-12/schema")


def test_cli_schema_output_file(tmp_path, schema: dict[str, Any]) -> None:
    out = tmp_path / "scenario.schema.json"
    assert main(["schema", "--output", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8")) == json.loads(json.dumps(schema))


def test_nodes_are_a_union_discriminated_by_type_with_every_registered_type(schema: dict[str, Any]) -> None:
    items = schema["properties"]["nodes"]["items"]
    mapping = items["discriminator"]["mapping"]
    assert items["discriminator"]["propertyName"] == "type"
    names = builtin_registry().names()
    assert sorted(mapping) == names
    assert len(items["oneOf"]) == len(names)
    for name, cls in builtin_registry().items():
        variant = schema["$defs"][mapping[name].rsplit("/", 1)[1]]
        assert variant["properties"]["type"]["const"] == name
        assert variant["x-title-en"] == cls.title_en and variant["x-title-ru"] == cls.title_ru
        assert "error" in variant["x-exits"]
        # the variant's params are exactly the type's Params model
        params = variant["properties"]["params"]
        ref = params.get("$ref") or params["allOf"][0]["$ref"]
        params_schema = schema["$defs"][ref.rsplit("/", 1)[1]]
        assert set(params_schema.get("properties", {})) == {
            f.alias or n for n, f in cls.Params.model_fields.items()
        }, name
        assert params_schema.get("additionalProperties") is False, name


def test_expression_fields_are_marked_for_the_editor(schema: dict[str, Any]) -> None:
    assert schema["$defs"]["IfParams"]["properties"]["condition"]["format"] == "expression"
    assert schema["$defs"]["SayParams"]["properties"]["text"]["format"] == "template"


def test_example_validates(validator: jsonschema.Draft202012Validator) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message[:120]}" for e in validator.iter_errors(example())]
    assert errors == []


def test_documents_the_loader_accepts_validate(validator: jsonschema.Draft202012Validator) -> None:
    data = doc(
        [
            start("g"),
            node(
                "g",
                "gather",
                {
                    "prompt": "Press 1",  # the text shorthand of a prompt
                    "timeout_prompt": {"play": "media/again.wav"},
                    "options": [{"digits": "1", "exit": "one"}],
                },
                one="m",
                timeout="bye",
            ),
            node("m", "menu", {"value": "digits()", "cases": [{"in": ["1", 2], "exit": "x"}, {"range": [1, 9], "exit": "x"}]}, x="s"),
            say("s", "ok", "bye"),
            hangup(),
        ],
        variables={"N": 1},
        settings={"max_steps": 50, "error_handler": "bye"},
    )
    load(copy.deepcopy(data))
    assert list(validator.iter_errors(data)) == []


@pytest.mark.parametrize(
    ("breakage", "where"),
    [
        (lambda d: d["nodes"][4].update(type="teleport"), ["nodes", 4]),
        (lambda d: d["nodes"][4]["params"].update(max_digits="one"), ["nodes", 4]),
        (lambda d: d["nodes"][4]["params"].update(colour="red"), ["nodes", 4]),
        (lambda d: d["nodes"][3]["params"]["cases"][0].pop("exit"), ["nodes", 3]),
        (lambda d: d["nodes"][0].pop("id"), ["nodes", 0]),
        (lambda d: d.pop("schema"), []),
        (lambda d: d["settings"].update(max_steps=0), ["settings", "max_steps"]),
    ],
    ids=["unknown type", "bad param type", "unknown param", "case without exit", "node without id", "no schema", "bad setting"],
)
def test_broken_documents_fail(validator: jsonschema.Draft202012Validator, breakage: Any, where: list[Any]) -> None:
    # jsonschema ignores the discriminator, so a broken node is reported at
    # the node (no oneOf variant matched), not at the field inside it.
    data = example()
    data["settings"] = {}
    breakage(data)
    errors = list(validator.iter_errors(data))
    assert errors, "the broken document passed the schema"
    assert any(list(e.absolute_path)[: len(where)] == where for e in errors), [
        list(e.absolute_path) for e in errors
    ]


def test_advertised_exits_are_exits_a_node_really_has(schema: dict[str, Any]) -> None:
    # The editor draws a node's ports from x-exits; a port the loader then
    # rejects ("'gather' has no exit 'next'") would be a trap.
    from pydantic import ValidationError

    core = {"start", "assign", "menu", "if", "say", "play", "gather", "hangup", "subscenario", "return"}
    checked = []
    for name, cls in builtin_registry().items():
        if name not in core:
            continue  # the other types' files own their tests
        try:
            params = cls.Params.model_validate({})
        except ValidationError:
            continue  # needs params; covered by the type's own tests
        advertised = set(cls.exits)
        assert advertised <= set(cls.exit_names(params)), name
        checked.append(name)
    assert "gather" in checked
    gather = schema["$defs"]["GatherNodeDoc"]["x-exits"]
    assert "next" not in gather and "timeout" in gather
