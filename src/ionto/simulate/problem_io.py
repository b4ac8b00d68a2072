"""Problem <-> plain JSON data, and a cache of validated scenario files.

Validating a scenario (pint units, pydantic schema) is the slow part of a short run:
importing pint and pydantic alone costs ~0.3 s. ``cached_problem`` keeps the validated,
SI-unit ``Problem`` of a file as JSON keyed by the SHA-256 of the file's bytes and of the
source of the modules that validate it, so a file is only re-validated when the file or
the validator changes. The cache lives in ``$IONTO_CACHE_DIR`` or
``$XDG_CACHE_HOME/ionto`` (default ``~/.cache/ionto``); set ``IONTO_NO_CACHE=1`` to skip it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ionto.simulate.problem import (
    Activation,
    Boundary,
    ElectrodeBoundary,
    ElectrodeReaction,
    Equilibrium,
    FixedBoundary,
    Hyperaemia,
    Layer,
    LayerMesh,
    MeshSpec,
    NoFluxBoundary,
    Problem,
    Reaction,
    ReportSpec,
    ReservoirBoundary,
    Sampling,
    Segment,
    SolverSpec,
    Species,
    Systemic,
)

FORMAT_VERSION = 10


def problem_to_dict(problem: Problem) -> dict[str, Any]:
    """JSON-ready dictionary of a problem (SI units)."""
    data = dataclasses.asdict(problem)
    data["format_version"] = FORMAT_VERSION
    return data


def _reaction(data: dict[str, Any] | None) -> ElectrodeReaction | None:
    if data is None:
        return None
    return ElectrodeReaction(
        data["name"],
        dict(data["anodic"]),
        dict(data["cathodic"]),
        data["anodic_capacity"],
        data["cathodic_capacity"],
        dict(data["exhausted_anodic"]),
        dict(data["exhausted_cathodic"]),
    )


def _boundary(data: dict[str, Any]) -> Boundary:
    kind = data["kind"]
    if kind == "electrode":
        reaction = _reaction(data["reaction"])
        assert reaction is not None
        return ElectrodeBoundary(reaction)
    if kind == "fixed":
        return FixedBoundary(dict(data["concentrations"]), pH=data["pH"])
    if kind == "reservoir":
        return ReservoirBoundary(
            data["volume_per_area"],
            dict(data["initial"]),
            _reaction(data["reaction"]),
            initial_pH=data["initial_pH"],
        )
    if kind == "no_flux":
        return NoFluxBoundary()
    raise ValueError(f"unknown boundary kind {kind!r}")


def problem_from_dict(data: dict[str, Any]) -> Problem:
    """Inverse of ``problem_to_dict``."""
    if data.get("format_version") != FORMAT_VERSION:
        raise ValueError("problem data written by another ionto version")
    reports = []
    for r in data["reports"]:
        r = dict(r)
        if r.get("region") is not None:
            r["region"] = tuple(r["region"])
        reports.append(ReportSpec(**r))
    return Problem(
        species=tuple(Species(**s) for s in data["species"]),
        electroneutral_species=data["electroneutral_species"],
        layers=tuple(
            Layer(
                **{
                    **layer,
                    "activation": None
                    if layer.get("activation") is None
                    else Activation(**layer["activation"]),
                    "hyperaemia": None
                    if layer.get("hyperaemia") is None
                    else Hyperaemia(**layer["hyperaemia"]),
                }
            )
            for layer in data["layers"]
        ),
        left=_boundary(data["left"]),
        right=_boundary(data["right"]),
        control=tuple(
            Segment(**{**s, "cycle": None if s.get("cycle") is None else tuple(s["cycle"])})
            for s in data["control"]
        ),
        mesh=MeshSpec(
            **{
                **data["mesh"],
                "layers": tuple(LayerMesh(**m) for m in data["mesh"]["layers"]),
            }
        ),
        temperature=data["temperature"],
        smoothing=data["smoothing"],
        electroosmotic_coefficient=data["electroosmotic_coefficient"],
        exchange_concentrations=dict(data["exchange_concentrations"]),
        reactions=tuple(Reaction(**r) for r in data["reactions"]),
        equilibria=tuple(Equilibrium(**e) for e in data["equilibria"]),
        exchange_pH=data["exchange_pH"],
        systemic=tuple(Systemic(**d) for d in data["systemic"]),
        treated_area=data["treated_area"],
        output_times=tuple(data["output_times"]),
        reports=tuple(reports),
        solver=SolverSpec(**data["solver"]),
        title=data["title"],
        compliance_voltage=data["compliance_voltage"],
        current_limit=data["current_limit"],
        sampling=tuple(
            Sampling(d["time"], d["side"], d["fraction"], dict(d["fresh"]))
            for d in data.get("sampling", ())
        ),
    )


_VALIDATOR_MODULES = (
    "problem.py",
    "problem_io.py",
    "scenario.py",
    "scenario_build.py",
    "scenario_sampling.py",
    "scenario_timeline.py",
)


def _cache_dir() -> Path:
    env = os.environ.get("IONTO_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ionto"


def _key(raw: bytes) -> str:
    digest = hashlib.sha256(raw)
    here = Path(__file__).parent
    for name in _VALIDATOR_MODULES:
        path = here / name
        if path.exists():
            digest.update(path.read_bytes())
    # skin parameter sets feed [skin]: their code and data are part of the validator
    for path in sorted((here / "params").rglob("*")):
        if path.suffix in (".py", ".toml"):
            digest.update(path.read_bytes())
    return digest.hexdigest()


def cached_problem(path: str | Path, load: Callable[[Path], Problem]) -> Problem:
    """The validated Problem of a scenario file, from the cache when the file and the
    validator are unchanged, else from ``load(path)`` (which raises on bad input; errors
    are never cached)."""
    path = Path(path)
    if os.environ.get("IONTO_NO_CACHE"):
        return load(path)
    raw = path.read_bytes()
    entry = _cache_dir() / f"{_key(raw)}.json"
    try:
        return problem_from_dict(json.loads(entry.read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        pass
    problem = load(path)
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = entry.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(problem_to_dict(problem)))
        tmp.replace(entry)
    except OSError:
        pass  # a read-only home is not an error: validate every time
    return problem
