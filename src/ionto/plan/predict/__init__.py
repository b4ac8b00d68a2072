"""Simulation-based prediction of a plan: the plan as a scenario (``scenario``), its
simulation over time (``run``), the dose finder (``dose``) and the defaults as data
(``defaults``). See docs/planning.md, "Prediction"."""
