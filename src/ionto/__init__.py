"""ionto: iontophoresis simulation, planning and device control.

Importing ``ionto`` is cheap on purpose: it defines the version and nothing else. Use
the subpackages (``ionto.simulate``, ``ionto.core``) or the ``ionto`` command.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
