"""Measures engineers report, as pure functions from per-vehicle records (no SimPy, no model).

Room for: adding a measure (declare it once in catalog.py).
"""
