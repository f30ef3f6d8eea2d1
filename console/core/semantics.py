"""References a report makes checked against the event and the live state: lots, zones, incidents,
instructions and their targets, plans, runs, steps and tasks.

Pure: no sockets, no database. The hub calls `check` for each report in order; a miss is a
ProtocolError with a sentence the post worker can act on (E_UNKNOWN or E_SCHEMA).
"""
from __future__ import annotations

from typing import Any

from console.core import plan_library, plans, prep, services
from console.core.event import Event
from console.core.state import State
from console.core.state.fold import VIP_LEVELS
from console.core.state.fold_phones import generation_of
from console.core.state.fold_prep import find_task
from protocols.codec import ProtocolError, schema_error
from protocols.messages import POSTS
from protocols.names import plate_key


class References:
    """What an event lets a report refer to; built once per hub from the event and its plan library."""

    def __init__(self, event: Event, library: plan_library.Library, drill: bool = False) -> None:
        self.library, self.drill = library, drill
        self.lots = {a.id for a in event.lots}
        self.zones = {a.id for a in event.zones}
        self.station_ids = {s.id for s in event.stations}
        self.gates = {s.id for s in event.stations if s.post == "gate"}
        self.task_ids = {t.id for t in event.tasks}
        self.vip_spaces = {a.id: a.vip_spaces for a in event.lots}

    def check(self, state: State, type_: str, msg: Any, new_ids: set[int], peer: Any = None) -> None:
        """Checks that need the event or the state: lots, zones, incidents, instructions, targets, plans."""
        if type_.startswith("plan_") or (type_ == "instruction" and msg.run):
            self._plan(state, type_, msg, peer)
        if type_ in ("lot_occupancy", "space_assign") and msg.lot not in self.lots:
            raise schema_error("lot", "problem.unknown_lot", got=msg.lot)
        if type_ in ("zone_enter", "zone_exit", "zone_count") and msg.zone not in self.zones:
            raise schema_error("zone", "problem.unknown_zone", got=msg.zone)
        if type_ == "incident_update" and msg.incident not in state.incidents and msg.incident not in new_ids:
            raise ProtocolError("E_UNKNOWN", what_key="what.incident", ref=f"#{msg.incident}")
        if type_ == "instruction_ack" and msg.instruction not in state.instructions \
                and msg.instruction not in new_ids:
            raise ProtocolError("E_UNKNOWN", what_key="what.instruction", ref=f"#{msg.instruction}")
        if type_ == "instruction" and not self.target_ok(msg.target):
            raise schema_error("target", "problem.unknown_target", got=msg.target)
        if type_ == "instruction" and msg.gate and not self.reaches_gate(msg.target):
            raise schema_error("gate", "problem.gate_target", got=msg.target)
        if type_ == "task_signoff" and msg.task not in self.task_ids and find_task(state, msg.task) is None:
            raise ProtocolError("E_UNKNOWN", what_key="what.task", ref=msg.task)   # or one the desk added
        if type_ == "space_assign" and msg.vip:
            self._vip_space(state, msg)
        if type_ in prep.KINDS:
            prep.check(state, type_, msg, self.station_ids)
        if type_ == "sendoff_notice" and msg.guest_ref:
            self._sendoff(state, msg.guest_ref)
        if type_ == "service_update":
            services.check(state, msg, peer, new_ids)
        if type_ == "guest_add" and msg.plate.strip() and plate_key(msg.plate) in state.guests["plates"]:
            raise schema_error("plate", "problem.plate_listed", plate=msg.plate)
        if type_ == "guest_expect":
            self._expect(state, msg.guest_ref)
        if type_ == "car_in" and msg.release:
            self._release(state, msg.plate)
        if type_ == "phone_revoke":
            self._phone_revoke(state, msg)
        if type_ == "drill_clock" and not self.drill:
            raise schema_error("start_ms", "problem.drill_only")

    def _sendoff(self, state: State, ref: str) -> None:
        """A send-off names a guest on the list, who has not left and is not being seen off already."""
        g = state.guests
        if ref not in g["list"]:
            raise ProtocolError("E_UNKNOWN", what_key="what.guest", ref=ref)
        if ref in g.get("departed", {}):
            raise schema_error("guest_ref", "problem.guest_departed")
        if any(g["sendoffs"][key]["ref"] == ref for key in g.get("sendoffs_open", ())):
            raise schema_error("guest_ref", "problem.sendoff_open")

    def _expect(self, state: State, ref: str) -> None:
        """The desk moves the expected arrival of a listed guest who is not here yet."""
        if ref not in state.guests["list"]:
            raise ProtocolError("E_UNKNOWN", what_key="what.guest", ref=ref)
        if ref in state.guests["arrived"]:
            raise schema_error("guest_ref", "problem.guest_arrived")

    def _phone_revoke(self, state: State, msg: Any) -> None:
        """A station of the event, moved past the generation the log has: two desks revoking at once, the second is told."""
        if msg.station not in self.station_ids:
            raise schema_error("station", "problem.unknown_station", got=msg.station)
        if msg.generation <= generation_of(state, msg.station):
            raise schema_error("generation", "problem.revoke_again")

    def _vip_space(self, state: State, msg: Any) -> None:
        """A reserved VIP space of that lot (贵宾车位), not given to another car already."""
        spaces = self.vip_spaces.get(msg.lot, ())
        if msg.space not in spaces:
            raise schema_error("space", "problem.not_vip_space", got=msg.space or "—",
                               spaces=" / ".join(spaces) or "—")
        taken = state.lots.get(msg.lot, {}).get("vip_taken", {}).get(msg.space)
        if taken is not None:
            raise schema_error("space", "problem.vip_space_taken", space=msg.space, plate=taken["plate"] or "—")

    def _release(self, state: State, plate: str) -> None:
        """贵宾放行 lets in only a car the guest list gives to a level A or B guest: ordinary cars stay held."""
        ref = state.guests["plates"].get(plate_key(plate))
        if ref is None or state.guests["list"].get(ref, {}).get("level") not in VIP_LEVELS:
            raise schema_error("release", "problem.release_not_vip", plate=plate)

    def _plan(self, state: State, type_: str, msg: Any, peer: Any) -> None:
        """A plan the library has and is not running; a run (or proposal) and step that exist; a post's own step."""
        if type_ == "plan_start":
            if msg.plan not in self.library:
                raise ProtocolError("E_UNKNOWN", what_key="what.plan", ref=msg.plan)
            running = plans.active_run(state, msg.plan)
            if running:
                raise schema_error("plan", "problem.plan_running", run=running)
            return
        runs = state.plans["runs"]
        run = runs.get(msg.run)
        if run is None and not (type_ == "plan_stand_down" and msg.run in state.plans["proposals"]):
            raise ProtocolError("E_UNKNOWN", what_key="what.run", ref=f"#{msg.run}")
        if type_ == "plan_step":
            step = run["steps"].get(msg.step)
            if step is None:
                raise ProtocolError("E_UNKNOWN", what_key="what.step", ref=f"#{msg.run} {msg.step}")
            if peer is not None and peer.role == "station" and peer.post not in step["posts"]:
                raise schema_error("step", "problem.step_not_for_post")
            if msg.post and msg.post not in step["posts"]:
                raise schema_error("post", "problem.step_not_for_post")

    def reaches_gate(self, target: str) -> bool:
        """An order to the gate (hold / resume) must go where a gate station hears it."""
        kind, _, name = target.partition(".")
        return target == "all" or (kind == "post" and name == "gate") or (kind == "station" and name in self.gates)

    def target_ok(self, target: str) -> bool:
        if target == "all":
            return True
        kind, _, name = target.partition(".")
        return (kind == "post" and name in POSTS) or (kind == "station" and name in self.station_ids)
