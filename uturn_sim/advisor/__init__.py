"""Design advisor: the fewest slots (and least storage) meeting every criterion.

A layer of its own after ``validation``: it uses the closed forms of
:mod:`uturn_sim.validation.theory` for its first guess and the studies for their intervals.
"""

from uturn_sim.advisor.design import Criteria, Design, closed_form_slots, design, judge

__all__ = ["Criteria", "Design", "closed_form_slots", "design", "judge"]
