"""Packing :class:`~uturn_sim.model.lane.LaneRules` into the float array the kernels read.

Every field of ``LaneRules`` must be known here: a field added to the rules without
being handled by the compiled engine is an error (:func:`pack_rules` raises), never
silently ignored.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from uturn_sim.model.lane import LaneRules

__all__ = ["FIELDS", "pack_rules"]

(
    LINKED,
    SLOTS,
    WHEN,
    GAP_H,
    GREEN_H,
    LEFT_H,
    REACTION,
    ACCEL,
    DECEL,
    CREEP,
    HOLD,
    STRICT,
    STORAGE,
    CAR_LEN,
    HEAVY_LEN,
    SLOT_LEN,
    HEAVY_SLOTS,
    MIN_PET,
    ENTRY,
    CLEAR,
    THROUGH_LANES,
    OPENING,
    THROUGH_H,
    AVOID,
) = range(24)
WHEN_LEFT_GREEN, WHEN_ANY_GAP, WHEN_EITHER = 0, 1, 2
_WHEN = {"left_green": WHEN_LEFT_GREEN, "any_safe_gap": WHEN_ANY_GAP}
_WHEN["left_green_or_safe_gap"] = WHEN_EITHER

#: ``LaneRules`` field -> index in the packed array (``scheme`` is a name, not a number)
FIELDS: dict[str, int] = {
    "slot_service": LINKED,
    "slots": SLOTS,
    "uturn_when": WHEN,
    "uturn_gap_headway_s": GAP_H,
    "uturn_green_headway_s": GREEN_H,
    "left_headway_s": LEFT_H,
    "reaction_s": REACTION,
    "accel_m_s2": ACCEL,
    "decel_m_s2": DECEL,
    "creep_speed_m_s": CREEP,
    "slot_hold_s": HOLD,
    "strict_gap_entry": STRICT,
    "storage_m": STORAGE,
    "car_length_m": CAR_LEN,
    "heavy_length_m": HEAVY_LEN,
    "slot_length_m": SLOT_LEN,
    "heavy_uturn_slots": HEAVY_SLOTS,
    "min_pet_s": MIN_PET,
    "conflict_entry_s": ENTRY,
    "turn_clear_s": CLEAR,
    "through_lanes": THROUGH_LANES,
    "bay_opening_m": OPENING,
    "through_headway_s": THROUGH_H,
    "avoid_blocked_lane": AVOID,
}


def pack_rules(rules: LaneRules) -> np.ndarray:
    """The rules as a float64 array indexed by :data:`FIELDS` (times s, lengths m).

    Raises
    ------
    NotImplementedError
        If ``rules`` has a field the compiled engine does not implement.
    """
    out = np.zeros(len(FIELDS))
    for f in dataclasses.fields(rules):
        if f.name == "scheme":
            continue
        if f.name not in FIELDS:
            raise NotImplementedError(
                f"LaneRules.{f.name} is not implemented by the fast engine; "
                "use engine='simpy' or add it to uturn_sim.fast"
            )
        value = getattr(rules, f.name)
        out[FIELDS[f.name]] = _WHEN[value] if f.name == "uturn_when" else float(value)
    return out
