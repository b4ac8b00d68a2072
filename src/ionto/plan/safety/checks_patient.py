"""Checks of the patient: contraindications from the questionnaire and the site,
allergies, unanswered screening questions and minimum age (ages in years)."""

from __future__ import annotations

from collections.abc import Iterator

from ionto.plan.library_schema import QUESTIONS, Contraindication
from ionto.plan.safety.context import Context
from ionto.plan.safety.registry import Hit, rule

SECONDS_PER_YEAR = 365.25 * 86400


def _hit(what: str, c: Contraindication, modality: str) -> Hit:
    note = f" ({c.note})" if c.note else ""
    if c.level == "absolute":
        return Hit(
            f"{what}: contraindicated for {modality}{note}", source=c.source, uncertain=c.uncertain
        )
    words = {
        "warning": "warning",
        "precaution": "precaution",
        "local": "not over or near this area",
    }
    return Hit(
        f"{what}: {words[c.level]} for {modality}{note}", severity="warning", source=c.source
    )


@rule("contraindication.answer")
def contraindication_answer(ctx: Context) -> Iterator[Hit]:
    table = ctx.plan.library.contraindications(ctx.plan.modality).contraindications
    for question, c in table.items():
        if ctx.plan.patient.answer(question):
            yield _hit(f"{question} ({QUESTIONS[question]})", c, ctx.plan.modality.name)


@rule("contraindication.site")
def contraindication_site(ctx: Context) -> Iterator[Hit]:
    site = ctx.plan.site
    table = ctx.plan.library.contraindications(ctx.plan.modality).sites
    if site is not None and site in table:
        yield _hit(f"site {site}", table[site], ctx.plan.modality.name)


@rule("contraindication.allergy")
def contraindication_allergy(ctx: Context) -> Iterator[Hit]:
    drug, allergies = ctx.plan.drug, ctx.plan.patient.allergies or []
    if drug is None:
        return
    names = {drug.name.lower(), drug.title.lower()}
    for allergy in allergies:
        a = allergy.strip().lower()
        if a and any(a == n or a in n.split() or a in n for n in names):
            yield Hit(f"the patient is allergic to {allergy!r}, which matches {drug.name}")


@rule("screening.unanswered")
def screening_unanswered(ctx: Context) -> Iterator[Hit]:
    modality = ctx.plan.modality
    table = ctx.plan.library.contraindications(modality).contraindications
    missing: list[str] = [q for q in table if ctx.plan.patient.answer(q) is None]
    if modality.min_age is not None and ctx.plan.patient.age is None:
        missing.insert(0, "age")
    if missing:
        yield Hit(f"not answered for {modality.name}: {', '.join(missing)}")


@rule("age.minimum")
def age_minimum(ctx: Context) -> Iterator[Hit]:
    minimum, age = ctx.plan.modality.min_age, ctx.plan.patient.age
    if minimum is None or age is None:
        return
    years = minimum.si / SECONDS_PER_YEAR
    if age < years - 1e-9:
        yield Hit(
            f"age {age:g} is below the minimum {minimum.value} for {ctx.plan.modality.name}",
            source=minimum.source,
            uncertain=minimum.uncertain,
        )
