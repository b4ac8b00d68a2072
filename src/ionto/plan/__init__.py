"""Treatment planning: libraries (drugs, electrodes, modalities), protocols, safety checks
and course schedules.

Subpackages and modules: :mod:`ionto.plan.library` (data libraries with units and
sources), :mod:`ionto.plan.protocol` (the protocol language), :mod:`ionto.plan.plan`
(plan files), :mod:`ionto.plan.safety` (rules and the checker),
:mod:`ionto.plan.course` (session schedules and iCalendar export) and
:mod:`ionto.plan.cli` (the ``ionto plan`` commands). This layer may import
:mod:`ionto.core` and :mod:`ionto.simulate`, never a higher layer.
"""
