"""Deliverables assembled from studies and figures: the validation report."""
