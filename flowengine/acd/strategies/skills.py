"""skills — «по навыкам»: the best-skilled eligible member; requirements widen with waiting.

Eligibility by skill is enforced by the core for *every* strategy: a queue (or
the call itself) states required levels as steps over waiting time, e.g. level
≥ 8 in ``english`` at first, ≥ 5 after 30 s, anybody after 60 s
(``queue.skills``). This strategy adds the order: among the eligible free
members, the one with the highest total level in the currently required skills
(all skills of the member when nothing is required), ties by longest idle.
One operator at a time.
"""

from __future__ import annotations

from flowengine.acd.strategies.base import HuntRound, OfferContext, Strategy

__all__ = ["Skills"]


class Skills(Strategy):
    """Highest skill score among eligible members, ties by longest idle."""

    name = "skills"
    title_en = "skills-based"
    title_ru = "по навыкам"

    def pick(self, ctx: OfferContext, rnd: HuntRound | None) -> str | None:
        ops = ctx.operators
        req = ctx.requirement

        def key(o: str) -> tuple[float, ...]:
            op = ops[o]
            skills = op.spec.skills
            score = sum(skills.get(s, 0) for s in req) if req else sum(skills.values())
            return (-score, op.last_call_end)

        return ctx.pool.least(key, ctx.accept)
