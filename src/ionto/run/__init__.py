"""Running treatments: device drivers, the controller, session logs and trace analysis.

Units everywhere (SI floats): time in s, current in A, voltage in V, impedance in ohm,
dose in mA*min where named ``*_mAmin`` (1 mA*min = 0.06 C). See docs/run.md.
"""
