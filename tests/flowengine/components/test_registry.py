"""The node registry: explicit registration, no silent shadowing, unknown names rejected."""

from __future__ import annotations

import pytest
from scenario_builders import doc, hangup, load, node, registry_with, run, start

from flowengine.components.node import NodeType, ParamsModel
from flowengine.components.registry import NodeRegistry, builtin_registry
from flowengine.errors import RegistryError, ScenarioError


class EchoParams(ParamsModel):
    word: str = "echo"


class EchoNode(NodeType):
    type_name = "echo"
    title_en = "Echo"
    title_ru = "Эхо"
    Params = EchoParams

    async def run(self, ctx) -> str:  # type: ignore[no-untyped-def]
        ctx.set_var("ECHO", self.params.word, self.id)  # type: ignore[attr-defined]
        return "next"


def test_registering_a_type_twice_raises() -> None:
    reg = NodeRegistry()
    reg.register(EchoNode)

    class OtherEcho(EchoNode):
        pass

    with pytest.raises(RegistryError, match="'echo' is already registered by EchoNode"):
        reg.register(OtherEcho)
    assert reg["echo"] is EchoNode  # the first registration stands


def test_builtin_type_cannot_be_registered_again() -> None:
    reg = builtin_registry()
    say = reg["say"]
    with pytest.raises(RegistryError):
        reg.register(say)


def test_type_without_name_is_refused() -> None:
    class Nameless(NodeType):
        title_en = title_ru = "?"

    with pytest.raises(RegistryError, match="no type_name"):
        NodeRegistry().register(Nameless)


def test_unknown_type_lookup() -> None:
    reg = NodeRegistry()
    assert reg.get("echo") is None
    assert "echo" not in reg
    with pytest.raises(RegistryError, match="unknown node type 'echo'"):
        reg["echo"]


def test_unregister_frees_the_name() -> None:
    reg = NodeRegistry()
    reg.register(EchoNode)
    reg.unregister("echo")
    assert "echo" not in reg
    reg.register(EchoNode)
    assert reg.names() == ["echo"]


def test_scenario_loads_against_the_registry_it_is_given() -> None:
    data = doc([start("e"), node("e", "echo", {"word": "hi"}, next="bye"), hangup()])
    with pytest.raises(ScenarioError) as info:
        load(data)  # the built-in registry does not know "echo"
    assert info.value.problems[0].node_id == "e" and info.value.problems[0].code == "unknown_type"
    trace = run(load(data, registry_with(EchoNode)))
    assert trace.variables["ECHO"] == "hi"
    assert trace.path == ["start", "e", "bye"]
    assert "echo" not in builtin_registry()  # nothing leaked into the global registry


def test_every_builtin_type_is_complete() -> None:
    reg = builtin_registry()
    expected = {"start", "assign", "menu", "if", "say", "play", "gather", "hangup", "subscenario", "return"}
    assert expected <= set(reg.names())
    for name, cls in reg.items():
        assert cls.type_name == name
        assert cls.title_en and cls.title_ru, name
        assert any("а" <= ch.lower() <= "я" for ch in cls.title_ru), f"{name}: Russian title is not Russian"
        assert issubclass(cls.Params, ParamsModel), name
