"""The simulation problem in SI units: what the engine solves.

Everything here is plain, frozen data in SI base units (m, s, mol, A, V, K). Units are
parsed and checked once, at the edge (``ionto.simulate.scenario`` reads TOML with pint);
the engine never sees a unit string. Concentrations are mol/m^3 (= mmol/L), current
densities A/m^2, areas m^2, lengths m, times s.

Sign convention: x is depth, x = 0 at the left boundary (the active electrode side).
A positive current density i flows in +x, i.e. into the tissue from the left electrode,
so a positive i makes the left electrode the anode.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

FARADAY = 96485.33212  # C/mol
GAS_CONSTANT = 8.314462618  # J/(mol K)


@dataclass(frozen=True)
class Species:
    """A dissolved species.

    name: unique label, e.g. "Lid+"; charge: valence z (integer, 0 for neutral);
    diffusivity: free-solution diffusion coefficient D_w in m^2/s.
    """

    name: str
    charge: int
    diffusivity: float


@dataclass(frozen=True)
class Activation:
    """Current-driven opening of a layer's conduction pathways (skin resistance that falls
    under current and recovers after, claim P4). A state a in [0, 1] multiplies every
    species' diffusivity in the layer by 1 + gain * a and follows

        da/dt = (|i_local| / charge) (1 - a) - a / tau_off,

    with i_local the layer's own current density (A/m^2). gain: R_rest / R_min - 1 (-);
    charge: local charge density (C/m^2) that opens the pathways by a factor e at rest;
    tau_off: recovery time constant (s)."""

    gain: float
    charge: float
    tau_off: float


@dataclass(frozen=True)
class Hyperaemia:
    """Perfusion that rises under current and with a vasodilator (claims P9, P19). A
    state p in [0, 1] multiplies the layer's exchange rate by 1 + gain * p and follows

        dp/dt = (|i_local| / charge + drug_rate * c / (c + drug_ec50)) (1 - p) - p / tau_off,

    with c the layer's mean total of ``drug`` (mol/m^3). gain (-), charge (C/m^2 of the
    layer's own area), tau_off (s), drug_ec50 (mol/m^3), drug_rate (1/s)."""

    gain: float
    charge: float
    tau_off: float
    drug: str | None = None
    drug_ec50: float = 1.0
    drug_rate: float = 0.0


@dataclass(frozen=True)
class Layer:
    """One layer of the stack, from its left face to its right face.

    thickness: m. diffusivity_factor: multiplies every species' D_w (hindrance, -);
    diffusivity_factors: per-species factors that override it. fixed_charge: immobile
    charge concentration in mol/m^3 of elementary charge (signed; -20 is 20 mM of
    negative sites). exchange_rate: first-order exchange with the blood (1/s), towards
    ``Problem.exchange_concentrations``. initial: initial concentrations in mol/m^3 of the
    species that are not the electroneutrality species (missing = 0). max_cell: largest
    mesh cell in this layer (m), or None for the mesh default. reaction_rates: first-order
    rate constants (1/s) of ``Problem.reactions`` by reaction name. area: cross-section
    (m^2) of the layer, for a circuit whose sites have different areas (every layer gives
    one, or none does: then all quantities are per unit area of a uniform column).
    activation: current-driven conductance of the layer (see :class:`Activation`).
    capacitance: F/m^2 (of the layer's own area) in parallel with the layer's ionic path:
    a displacement current charges its two faces (the stratum corneum under pulses).
    hyperaemia: perfusion (exchange rate) that rises under current (see
    :class:`Hyperaemia`).
    """

    name: str
    thickness: float
    diffusivity_factor: float = 1.0
    diffusivity_factors: dict[str, float] = field(default_factory=dict)
    fixed_charge: float = 0.0
    exchange_rate: float = 0.0
    initial: dict[str, float] = field(default_factory=dict)
    max_cell: float | None = None
    reaction_rates: dict[str, float] = field(default_factory=dict)
    initial_pH: float | None = None
    area: float | None = None
    activation: Activation | None = None
    capacitance: float | None = None
    hyperaemia: Hyperaemia | None = None


@dataclass(frozen=True)
class Equilibrium:
    """An instantaneous equilibrium: c_product = constant * prod(c_r ** nu_r) over the
    ``reactants`` (primary species -> exponent nu, negative allowed), concentrations in
    mol/m^3 and the constant in the matching SI unit. Water: product "OH-",
    reactants {"H+": -1}, constant Kw = 1e-8 (mol/m^3)^2. A weak acid HA <-> H+ + A-:
    product "HA", reactants {"A-": 1, "H+": 1}, constant 1/Ka. The product's charge must
    equal sum(nu z) of the reactants, and a product may not be a reactant elsewhere."""

    name: str
    product: str
    reactants: dict[str, float]
    constant: float


@dataclass(frozen=True)
class Systemic:
    """One-compartment pharmacokinetics of a species taken up by the blood. The plasma
    concentration C (mol/m^3) lives in a volume of distribution ``volume`` (m^3) and is
    eliminated with ``clearance`` (m^3/s); the treated skin (``Problem.treated_area``)
    exchanges with it, so C replaces the fixed blood-side concentration of that species in
    the exchange term. ``initial``: C at t = 0 (mol/m^3)."""

    species: str
    volume: float
    clearance: float
    initial: float = 0.0


@dataclass(frozen=True)
class Reaction:
    """First-order conversion reactant -> product with per-layer rate constants (1/s).

    Both species must carry the same charge (so current stays uniform) and neither may be
    the electroneutrality species.
    """

    name: str
    reactant: str
    product: str


@dataclass(frozen=True)
class ElectrodeReaction:
    """Stoichiometry of an electrode: moles of each species released into the adjacent
    medium per mole of electrons, for anodic current (current leaves the electrode into
    the medium) and for cathodic current. Negative values are consumption.

    Ag/AgCl: anodic {Cl-: -1} (Ag + Cl- -> AgCl + e-), cathodic {Cl-: +1}.
    Inert (Pt, carbon): anodic {H+: +1} (2 H2O -> O2 + 4 H+ + 4 e-), cathodic {OH-: +1}.

    A reactive electrode holds a finite amount of reactant. ``anodic_capacity`` (C/m^2) is
    the net anodic charge it can pass (e.g. the silver of an Ag/AgCl anode),
    ``cathodic_capacity`` the net cathodic charge (its AgCl); beyond them water
    electrolysis takes over with the ``exhausted_*`` stoichiometry. None = unlimited.
    """

    name: str
    anodic: dict[str, float]
    cathodic: dict[str, float]
    anodic_capacity: float | None = None
    cathodic_capacity: float | None = None
    exhausted_anodic: dict[str, float] = field(default_factory=lambda: {"H+": 1.0})
    exhausted_cathodic: dict[str, float] = field(default_factory=lambda: {"OH-": 1.0})


@dataclass(frozen=True)
class ElectrodeBoundary:
    """A boundary where an electrode touches the outermost layer: flux conditions given by
    the electrode reaction and the current (no flux for species not in the reaction)."""

    reaction: ElectrodeReaction
    kind: Literal["electrode"] = "electrode"


@dataclass(frozen=True)
class FixedBoundary:
    """Dirichlet boundary: concentrations held fixed (mol/m^3, non-electroneutrality
    species or, with fast equilibria, totals; missing = 0), optionally at a fixed pH. On
    the right it is also the potential reference (phi = 0)."""

    concentrations: dict[str, float]
    kind: Literal["fixed"] = "fixed"
    pH: float | None = None


@dataclass(frozen=True)
class ReservoirBoundary:
    """A well-mixed compartment of finite volume per unit area (m^3/m^2 = m) in contact
    with the outermost layer, optionally with an electrode immersed in it. ``initial``
    holds its initial concentrations (mol/m^3, non-electroneutrality species)."""

    volume_per_area: float
    initial: dict[str, float]
    reaction: ElectrodeReaction | None = None
    kind: Literal["reservoir"] = "reservoir"
    initial_pH: float | None = None


@dataclass(frozen=True)
class NoFluxBoundary:
    """Impermeable wall: no species crosses it, so no current may either."""

    kind: Literal["no_flux"] = "no_flux"


Boundary = ElectrodeBoundary | FixedBoundary | ReservoirBoundary | NoFluxBoundary


@dataclass(frozen=True)
class Sampling:
    """Withdraw-and-replace sampling of the well-mixed reservoir at one end, as in a
    diffusion cell's receptor: at ``time`` (s, the start of a control segment) the
    fraction ``fraction`` (-, 0 < f < 1) of the reservoir's volume is withdrawn and
    replaced by fresh solution of component totals ``fresh`` (mol/m^3, not the
    electroneutrality species). What leaves the stack (withdrawn minus added) is counted
    as flow out of that end, so every balance stays closed; the "withdrawn" report gives
    its cumulative amount."""

    time: float
    side: Literal["left", "right"]
    fraction: float
    fresh: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Segment:
    """A piece of the control program. mode "current": i(t) in A/m^2 goes linearly from
    ``start`` to ``end`` over ``duration`` (s); mode "voltage": the voltage phi(0) - phi(L)
    in V does the same and the current follows. The integrator restarts at each segment.

    ``cycle``: a cycle-averaged pulse train (A/m^2): (mean anodic current, mean cathodic
    current, peak |i|) over a period much shorter than transport times. The segment then
    runs at its mean current ``start`` = ``end`` = anodic - cathodic, electrodes react with
    the mean anodic and cathodic parts separately (an inert electrode makes acid and
    alkali within one biphasic cycle), and |i|-driven states see the mean |i|."""

    duration: float
    start: float
    end: float
    mode: Literal["current", "voltage"] = "current"
    cycle: tuple[float, float, float] | None = None


@dataclass(frozen=True)
class LayerMesh:
    """The mesh of one layer, by name: ``min_cell`` (m), the cell size at both of the
    layer's own ends, and ``max_cell`` (m), its largest cell; None keeps the default (the
    layer's own ``Layer.max_cell``, then the global :class:`MeshSpec` value)."""

    name: str
    min_cell: float | None = None
    max_cell: float | None = None


@dataclass(frozen=True)
class MeshSpec:
    """Non-uniform mesh: cells of ``min_cell`` (m) at every interface and boundary growing
    geometrically by ``growth`` up to ``max_cell`` (m) inside layers. ``layers``: per-layer
    settings (:class:`LayerMesh`) that override both sizes inside the named layers; at an
    interface each layer grades from its own ``min_cell``."""

    min_cell: float
    max_cell: float
    growth: float = 1.2
    layers: tuple[LayerMesh, ...] = ()

    def cells(self, layer: Layer) -> tuple[float, float]:
        """(smallest, largest) cell size (m) of ``layer``: its :class:`LayerMesh` entry,
        else its own ``max_cell``, else the global values."""
        own = next((m for m in self.layers if m.name == layer.name), None)
        h_min = self.min_cell
        h_max = layer.max_cell if layer.max_cell is not None else self.max_cell
        if own is not None:
            if own.min_cell is not None:
                h_min = own.min_cell
            if own.max_cell is not None:
                h_max = own.max_cell
        return h_min, h_max


@dataclass(frozen=True)
class SolverSpec:
    """Time integration: relative tolerance, absolute tolerance for concentrations
    (mol/m^3), the first step after each control discontinuity (s), and an optional
    largest step (s; None = unlimited)."""

    rtol: float = 1e-6
    atol: float = 1e-6
    first_step: float = 1e-4
    max_steps: int = 200_000
    max_step: float | None = None


ReportQuantity = Literal[
    "released",  # initial amount in the whole stack minus amount in region (mol/m^2)
    "amount",  # amount in region (mol/m^2)
    "change",  # amount in region minus its amount at t = 0 (mol/m^2)
    "cleared",  # cumulative amount lost to exchange (blood) over the region (mol/m^2)
    "flux",  # species flux at a face (mol/(m^2 s))
    "transport_number",  # F z N_k / i at a face (-)
    "voltage",  # phi(0) - phi(L) (V)
    "concentration",  # species concentration at a position (mol/m^3)
    "potential",  # phi at a position (V)
    "current",  # current density (A/m^2)
    "charge",  # integral of |i| dt through the active (left) electrode up to time (C/m^2)
    "pH",  # -log10 of the mean free H+ (mol/L) over a region, or at a position (-)
    "plasma",  # plasma concentration of a systemic species (mol/m^3)
    "perfusion",  # volume-mean relative perfusion (exchange rate / its rest value) (-)
    "resistance",  # ohmic resistance of a region (ohm m^2 of the reference area)
    "withdrawn",  # cumulative net amount removed from a reservoir by sampling (mol/m^2)
    "time_below",  # first time a region's pH (species "H+") or mean concentration falls
    # below ``threshold`` (s; NaN if it never does)
]


REPORT_UNITS: dict[str, str] = {
    "released": "mol/m^2",
    "amount": "mol/m^2",
    "change": "mol/m^2",
    "cleared": "mol/m^2",
    "flux": "mol/(m^2 s)",
    "transport_number": "-",
    "voltage": "V",
    "concentration": "mol/m^3",
    "potential": "V",
    "current": "A/m^2",
    "charge": "C/m^2",
    "pH": "-",
    "plasma": "mol/m^3",
    "time_below": "s",
    "resistance": "ohm*m^2",
    "perfusion": "-",
    "withdrawn": "mol/m^2",
}


@dataclass(frozen=True)
class ReportSpec:
    """A named scalar to report. time in s; side "before" takes the left limit at a
    discontinuity of the control. region: (x_start, x_end) in m; position: x in m.
    total: with fast equilibria, report the conserved total whose primary species is
    ``species`` (e.g. all protons for "H+") instead of the free species. threshold: for
    "time_below" (pH units when species is "H+" and the quantity is read as pH, else
    mol/m^3); ``time`` is then the end of the search window."""

    name: str
    quantity: ReportQuantity
    time: float
    species: str | None = None
    region: tuple[float, float] | None = None
    position: float | None = None
    side: Literal["before", "after"] = "after"
    total: bool = False
    threshold: float | None = None


@dataclass(frozen=True)
class Problem:
    """A complete 1D electrodiffusion problem in SI units.

    species: all species; the one named ``electroneutral_species`` is not integrated but
    follows from electroneutrality (sum z c + fixed charge = 0). layers: left to right.
    smoothing: width w (m) of tanh transitions between layer properties (0 = sharp).
    temperature: K. electroosmotic_coefficient: volume flux per current density (m^3/C),
    positive = flow in +x when i > 0. exchange_concentrations: blood-side concentrations
    (mol/m^3; totals with equilibria, at ``exchange_pH`` if set) for the exchange term.
    equilibria: instantaneous equilibria (acid-base, water). systemic: plasma
    compartments exchanging with the skin of area ``treated_area`` (m^2). output_times:
    times (s) at which full profiles are kept. compliance_voltage: the largest |voltage|
    (V) the current source can apply; a current-controlled segment then runs at that
    voltage while the set current is out of reach (None: unlimited). sampling:
    withdraw-and-replace samples of a reservoir end, each at the start of a segment.

    With layer areas (``Layer.area``, a two-site circuit) the current density i of the
    control and every amount, flux and cleared amount are per m^2 of the first layer's
    area (the active electrode), so I = i * area of layer 0.
    """

    species: tuple[Species, ...]
    electroneutral_species: str
    layers: tuple[Layer, ...]
    left: Boundary
    right: Boundary
    control: tuple[Segment, ...]
    mesh: MeshSpec
    temperature: float = 310.15
    smoothing: float = 0.0
    electroosmotic_coefficient: float = 0.0
    exchange_concentrations: dict[str, float] = field(default_factory=dict)
    reactions: tuple[Reaction, ...] = ()
    equilibria: tuple[Equilibrium, ...] = ()
    exchange_pH: float | None = None
    systemic: tuple[Systemic, ...] = ()
    treated_area: float | None = None
    output_times: tuple[float, ...] = ()
    reports: tuple[ReportSpec, ...] = ()
    solver: SolverSpec = field(default_factory=SolverSpec)
    title: str = ""
    compliance_voltage: float | None = None
    current_limit: float | None = None
    sampling: tuple[Sampling, ...] = ()

    @property
    def reference_area(self) -> float | None:
        """Area (m^2) that current densities and amounts refer to with layer areas: the
        first layer's (the active electrode's); None for a uniform column."""
        return self.layers[0].area if self.layers else None

    def area_scales(self) -> tuple[float, ...]:
        """Every layer's area relative to the reference area (all 1 without areas).
        ValueError if only some layers give an area."""
        areas = [layer.area for layer in self.layers]
        if all(a is None for a in areas):
            return tuple(1.0 for _ in areas)
        if any(a is None for a in areas):
            missing = [layer.name for layer in self.layers if layer.area is None]
            raise ValueError(
                "either every layer has an area or none does; missing: " + ", ".join(missing)
            )
        ref = float(areas[0])  # type: ignore[arg-type]
        return tuple(float(a) / ref for a in areas)  # type: ignore[arg-type]

    @property
    def length(self) -> float:
        """Total thickness of the stack (m)."""
        return sum(layer.thickness for layer in self.layers)

    @property
    def duration(self) -> float:
        """Total simulated time (s)."""
        return sum(seg.duration for seg in self.control)

    def layer_bounds(self) -> list[tuple[float, float]]:
        """(x_start, x_end) of every layer in m."""
        bounds = []
        x = 0.0
        for layer in self.layers:
            bounds.append((x, x + layer.thickness))
            x += layer.thickness
        return bounds

    def species_index(self, name: str) -> int:
        """Position of a species in ``species``; KeyError if unknown."""
        for k, sp in enumerate(self.species):
            if sp.name == name:
                return k
        raise KeyError(name)
