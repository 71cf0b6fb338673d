"""Recognize / Распознавание: ask a question and branch on what the caller says.

    {"prompt": "Say 'billing' or 'support'.",
     "choices": [{"exit": "billing", "phrases": ["billing", "оплата", "счёт", "pay"]},
                 {"exit": "support", "phrases": ["support", "help", "техподдержка"]}],
     "timeout": 5, "retries": 2, "language": "ru",
     "no_match_prompt": "Sorry, I did not get that.",
     "timeout_prompt": "I did not hear anything.",
     "variable": "SPOKEN"}

Exits: one per choice, "other" (speech that matched no choice, once retries
are spent), "timeout" (no speech within `timeout` s, retries spent). Without
choices (free speech, e.g. "tell us why you are calling"): "done" and "timeout".

Matching: the utterance and the phrases are normalised — lower case, "ё" read
as "е", punctuation dropped — and a choice matches when one of its phrases
occurs in the utterance as whole words, in order: "I want to pay my bill"
matches "pay" and "my bill", not "bill pay" nor "payment". Choices are tried
in order and the first match wins. A result below `min_confidence` matches no
choice (free speech ignores it). `variable` gets what was recognised ("" after
a timeout); every utterance leaves a `SpeechRecognized` event with the exit it
matched.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pydantic import Field, model_validator

from flowengine.components.fields import VarName
from flowengine.components.node import NodeType, ParamsModel
from flowengine.components.registry import registry
from flowengine.events import SpeechRecognized
from nodes.menu import EXIT_PATTERN
from nodes.prompt import PromptSpec, play_prompt

if TYPE_CHECKING:
    from flowengine.runtime.context import CallContext

RESERVED = {"other", "timeout", "done", "error"}
_NOT_WORD = re.compile(r"[\W_]+")


def words(text: str) -> tuple[str, ...]:
    """Normalised words: lower case, ё → е, punctuation and underscores are separators."""
    return tuple(_NOT_WORD.sub(" ", text.lower().replace("ё", "е")).split())


def contains_words(utterance: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(utterance[i : i + n] == phrase for i in range(len(utterance) - n + 1))


class Choice(ParamsModel):
    exit: str = Field(pattern=EXIT_PATTERN, description="exit taken when a phrase is heard")
    phrases: list[str] = Field(min_length=1, description="words or word sequences to listen for")


class RecognizeParams(ParamsModel):
    prompt: PromptSpec | None = None
    choices: list[Choice] = Field(default_factory=list)
    timeout: float = Field(default=5.0, gt=0, le=120, description="seconds to wait for speech")
    retries: int = Field(
        default=2, ge=0, le=20, description="extra attempts after a timeout or no match"
    )
    language: str | None = Field(default=None, description="e.g. ru, en; default: the scenario's")
    min_confidence: float = Field(default=0.0, ge=0, le=1)
    timeout_prompt: PromptSpec | None = None
    no_match_prompt: PromptSpec | None = None
    variable: VarName | None = None

    @model_validator(mode="after")
    def _check(self) -> RecognizeParams:
        seen: dict[tuple[str, ...], str] = {}
        for i, choice in enumerate(self.choices):
            if choice.exit in RESERVED:
                raise ValueError(f"choices[{i}]: exit '{choice.exit}' is reserved")
            for phrase in choice.phrases:
                key = words(phrase)
                if not key:
                    raise ValueError(f"choices[{i}]: phrase {phrase!r} has no words")
                if key in seen:
                    raise ValueError(
                        f"choices[{i}]: phrase {phrase!r} is already in choice '{seen[key]}'"
                    )
                seen[key] = choice.exit
        return self


@registry.register
class RecognizeNode(NodeType[RecognizeParams]):
    type_name = "recognize"
    title_en = "Recognize"
    title_ru = "Распознавание"
    description = "Play a prompt and branch on the caller's speech; one exit per choice"
    category = "input"
    Params = RecognizeParams
    exits = ("timeout",)
    default_exits = ("other", "timeout")
    params_exits = (
        "with `choices`: one per choice's `exit`, required; `other` and `timeout`, required as "
        "the default branch (unwired: `no_default`). Without `choices`: `done` (anything said) "
        "and `timeout`, both required"
    )
    waits_for_caller = True
    needs_media = True
    __slots__ = ("_choices", "_phrases")

    def __init__(self, node_id: str, params: RecognizeParams) -> None:
        super().__init__(node_id, params)
        self._choices = [(c.exit, [words(p) for p in c.phrases]) for c in params.choices]
        self._phrases = [p for c in params.choices for p in c.phrases]

    @classmethod
    def exit_names(cls, params: RecognizeParams) -> list[str]:
        if not params.choices:
            return ["done", "timeout"]
        return list(dict.fromkeys(c.exit for c in params.choices)) + ["other", "timeout"]

    @classmethod
    def default_exit_names(cls, params: RecognizeParams) -> tuple[str, ...]:
        return ("other", "timeout") if params.choices else ("timeout",)

    def writes(self) -> set[str]:
        p = self.params
        return {p.variable} if p.variable else set()

    def caller_input(self) -> dict[str, str]:
        p = self.params
        return {p.variable: "what the caller said"} if p.variable else {}

    def match(self, text: str) -> str | None:
        """The exit of the first choice with a phrase in `text`, else None."""
        heard = words(text)
        for exit_name, phrases in self._choices:
            if any(contains_words(heard, phrase) for phrase in phrases):
                return exit_name
        return None

    async def run(self, ctx: CallContext) -> str:
        p = self.params
        language = p.language or ctx.scenario.doc.language
        outcome = "timeout"
        for attempt in range(p.retries + 1):
            await play_prompt(ctx, self.id, p.prompt)
            result = await ctx.call.recognize(
                phrases=self._phrases, timeout=p.timeout, language=language
            )
            text = result.text or ""
            if p.variable:
                ctx.set_var(p.variable, text, self.id)
            if not text.strip():
                outcome = "timeout"
            else:
                confident = result.confidence is None or result.confidence >= p.min_confidence
                matched = self.match(text) if confident else None
                if not self._choices:
                    matched = "done"
                ctx.emit(
                    SpeechRecognized,
                    node_id=self.id,
                    text=text,
                    matched=matched,
                    confidence=result.confidence,
                )
                if matched is not None:
                    return matched
                outcome = "other"
            if attempt < p.retries:
                await play_prompt(
                    ctx, self.id, p.timeout_prompt if outcome == "timeout" else p.no_match_prompt
                )
        return outcome
