"""Compiled batch engine: the SimPy model's rules in numba, many replications per call."""
