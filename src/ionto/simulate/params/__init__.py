"""Physiological parameter sets for the skin model, as sourced data (docs/parameters.md).

``load_skin("human", "forearm")`` gives SI :class:`SkinParameters` with ``.source(name)``
and ``.uncertainty(name)``; :class:`ParameterSet` loads user files as strictly as the
built-in ones; :mod:`.pores` holds the pore-pathway physics and :mod:`.stack` builds
engine layers.
"""

from ionto.simulate.params.loader import IonParameters, ParameterSet, load_skin
from ionto.simulate.params.pores import pore_pathway, renkin
from ionto.simulate.params.skin import SkinParameters, Source
from ionto.simulate.params.stack import skin_electroosmosis, skin_layers

__all__ = [
    "IonParameters",
    "ParameterSet",
    "SkinParameters",
    "Source",
    "load_skin",
    "pore_pathway",
    "renkin",
    "skin_electroosmosis",
    "skin_layers",
]
