"""Run one replication of one scheme: :func:`simulate`."""

from __future__ import annotations

import pandas as pd

from uturn_sim.model.engine import run_lane
from uturn_sim.model.result import EVENT_COLUMNS, Result, vehicle_frame
from uturn_sim.model.schemes import Scheme, get_scheme
from uturn_sim.scenario.model import Scenario
from uturn_sim.traffic.table import ArrivalTable, build_arrivals

__all__ = ["simulate"]


def simulate(
    scenario: Scenario,
    scheme: str | Scheme,
    *,
    seed: int | None = None,
    replication: int = 0,
    arrivals: ArrivalTable | None = None,
    trace: bool = False,
) -> Result:
    """Simulate one replication of ``scheme``.

    Parameters
    ----------
    scenario
        The scenario.
    scheme
        A registered scheme name (``"ordinary"``, ``"linked"``, ``"ordinary_permitted"``,
        ``"linked_sanya"``, ``"linked_zhengzhou"``, or one you registered) or a
        :class:`~uturn_sim.model.schemes.Scheme`.
    seed
        Root seed; ``None`` uses ``scenario.simulation.seed``.
    replication
        Replication index under that seed.
    arrivals
        A prebuilt arrival table (to run several schemes on identical arrivals).
    trace
        Record every lane event in ``Result.events``.

    Raises
    ------
    ValueError
        For an unknown scheme, or a scheme whose U-turners need a left-turn green the
        signal plan does not give them.
    """
    sch = get_scheme(scheme)
    if (
        sch.needs_uturn_green(scenario)
        and sch.resolved_uturn_when(scenario) == "left_green"
        and scenario.demand.uturn.flow_veh_h > 0
        and not any("uturn" in p.serves for p in scenario.signal.phases)
    ):
        raise ValueError(
            f"scheme {sch.name!r} lets U-turners go only on the left-turn green, but no phase "
            "in signal.phases serves 'uturn'"
        )
    rules = sch.rules(scenario)
    table = arrivals if arrivals is not None else build_arrivals(scenario, seed, replication)
    events: list[tuple[float, str, int, int]] | None = [] if trace else None
    sink = None
    if events is not None:

        def sink(t: float, event: str, i: int, pos: int) -> None:
            events.append((t, event, i, pos))

    st = run_lane(table, sch, rules, scenario.simulation.end_s, sink)
    frame = None
    if events is not None:
        frame = pd.DataFrame(events, columns=list(EVENT_COLUMNS))
        frame = frame.sort_values("t_s", kind="stable").reset_index(drop=True)
    return Result(
        scheme=sch.name,
        scenario=scenario,
        vehicles=vehicle_frame(table, st, scenario.behaviour, scenario.vehicle_mix),
        seed_entropy=table.seed_entropy,
        spawn_key=table.spawn_key,
        arrivals=table,
        has_slots=sch.has_slots,
        events=frame,
        lane_one=None if st.approach is None else st.approach.states(),
    )
