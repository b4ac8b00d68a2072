"""Simulation layer: scenario files -> Problem (SI) -> engine -> Result, plots and reports.

Kept light on purpose: import the submodules you need (``ionto.simulate.scenario``,
``ionto.simulate.simulation``, ``ionto.simulate.plot``).
"""
