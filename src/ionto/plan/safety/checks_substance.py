"""Checks of the substance and polarity: polarity stated and matching the substance's
charge and the modality, the silver-anode chloride rule, the kind of substance, and its
prescription status by jurisdiction (P20: known status reported, unknown warned)."""

from __future__ import annotations

from collections.abc import Iterator

from ionto.plan.safety.book import Severity
from ionto.plan.safety.context import Context
from ionto.plan.safety.registry import Hit, rule


@rule("polarity.required")
def polarity_required(ctx: Context) -> Iterator[Hit]:
    if ctx.plan.modality.polarity_required and ctx.plan.polarity is None:
        yield Hit(
            f"{ctx.plan.modality.name} needs the polarity of the active electrode: "
            'set polarity = "anode" or "cathode"'
        )


@rule("polarity.substance")
def polarity_substance(ctx: Context) -> Iterator[Hit]:
    drug, polarity = ctx.plan.drug, ctx.plan.polarity
    if drug is None or polarity is None:
        return
    wanted = drug.polarity
    if wanted.value == "both":
        return
    if wanted.value == "unknown":
        yield Hit(
            f"the polarity of {drug.name} is unknown ({wanted.note or 'mixed or unstated charge'})",
            severity="warning",
            source=wanted.source,
        )
        return
    charge = "/".join(f"{z:+d}" for z in drug.charge.value)
    if wanted.value != polarity:
        verb = "is collected at" if ctx.plan.modality.purpose == "extraction" else "goes under"
        yield Hit(
            f"{drug.name} (charge {charge}) {verb} the {wanted.value}, but the active electrode "
            f"is the {polarity} (confidence {wanted.confidence})",
            source=wanted.source,
            uncertain=wanted.uncertain,
        )
    elif ctx.reverses:
        yield Hit(
            f"the protocol reverses polarity: while reversed, {drug.name} is driven away "
            "from the skin",
            severity="warning",
            source=wanted.source,
        )


@rule("polarity.modality")
def polarity_modality(ctx: Context) -> Iterator[Hit]:
    required = ctx.plan.modality.active_polarity
    if required is None or ctx.plan.polarity is None:
        return
    if ctx.plan.polarity != required.value:
        yield Hit(
            f"{ctx.plan.modality.name} uses the {required.value} as the active electrode, "
            f"not the {ctx.plan.polarity}",
            source=required.source,
            uncertain=required.uncertain,
        )


@rule("electrode.silver-anode-chloride")
def silver_anode_chloride(ctx: Context) -> Iterator[Hit]:
    active, drug = ctx.plan.active, ctx.plan.drug
    anodic = ctx.plan.polarity == "anode" or ctx.reverses
    if active.entry.material != "Ag/AgCl" or not anodic or drug is None:
        return
    if drug.counter_ion != "chloride":
        counter = drug.counter_ion or "none stated"
        yield Hit(
            f"{drug.name} (counter-ion: {counter}) on a positive Ag/AgCl electrode "
            f"({active.entry.name}) can stain or tattoo the skin; use a chloride solution"
        )


@rule("substance.required")
def substance_required(ctx: Context) -> Iterator[Hit]:
    modality, drug = ctx.plan.modality, ctx.plan.drug
    if drug is None:
        if modality.substance_required:
            kinds = ", ".join(modality.substances)
            yield Hit(f'{modality.name} needs a substance ({kinds}): set drug = "NAME"')
        return
    if modality.substances and drug.category not in modality.substances:
        yield Hit(
            f"{drug.name} is a {drug.category}; {modality.name} uses: "
            + ", ".join(modality.substances)
        )


@rule("substance.unexpected")
def substance_unexpected(ctx: Context) -> Iterator[Hit]:
    if ctx.plan.drug is not None:
        yield Hit(
            f"{ctx.plan.modality.name} is not a drug-delivery method; no transport of "
            f"{ctx.plan.drug.name} is claimed"
        )


@rule("substance.prescription")
def substance_prescription(ctx: Context) -> Iterator[Hit]:
    drug = ctx.plan.drug
    if drug is None or drug.category not in ("drug", "diagnostic"):
        return
    where = ctx.plan.jurisdiction
    if where is None:
        yield Hit(
            f"no jurisdiction given: the prescription status of {drug.name} is unknown; "
            'check the local rules (set jurisdiction = "...")'
        )
        return
    known = [p for p in drug.prescription if p.jurisdiction.lower() == where.lower()]
    if not known:
        yield Hit(
            f"the prescription status of {drug.name} in {where} is unknown; check the local rules"
        )
        return
    for status in known:
        severity: Severity = "warning" if status.status in ("restricted", "withdrawn") else "info"
        yield Hit(
            f"{drug.name} in {where}: {status.status}"
            + (f" ({status.detail})" if status.detail else ""),
            severity=severity,
            source=status.source,
        )
