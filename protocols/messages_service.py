"""The service-request message: a post or a desk takes, finishes or cancels a service call (service_update).

Registered like every other message; import it from `protocols.messages`. A service call itself is
`service_request` (protocols.messages); its number is the gseq the hub acked it with.
"""
from __future__ import annotations

from protocols.schema import Message, choice, integer, message, name, text

SERVICE_STATUSES = ("taken", "done", "cancelled")
# The `notice` an instruction carries when the hub tells a post about a service call: a new one routed to
# it, or its own call taken, done or cancelled; its `guest` field then holds the call's number (the
# instruction's reference field, as for a guest's list reference).
SERVICE_NOTICES = ("service_new", "service_taken", "service_done", "service_cancelled")


@message
class ServiceUpdate(Message):
    """Service call `call` taken (已接单), done (已完成) or cancelled (已取消, with the reason in `note`), and by whom."""

    TYPE = "service_update"
    call: int = integer(lo=1)          # the service_request's gseq
    status: str = choice(SERVICE_STATUSES)
    by: str = name("")
    note: str = text("")

    def problem(self) -> tuple[str, str, dict] | None:
        if self.status == "cancelled" and not self.note.strip():
            return "note", "problem.cancel_reason", {}
        return None
