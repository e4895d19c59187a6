"""The scenario: typed sections (model, demand), YAML loading with located errors, reference docs.

Room for: adding a scenario field (a section in model.py or demand.py).
"""
