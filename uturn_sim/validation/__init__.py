"""Validation against closed forms: the formulas (theory), the experiments and their report."""
