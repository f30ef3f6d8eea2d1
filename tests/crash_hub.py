"""The real hub (`eventdesk hub DIR`) with a crash point: it SIGKILLs itself at a chosen moment.

    python tests/crash_hub.py DIR before-commit K   # the K-th log transaction: rows inserted, COMMIT not run
    python tests/crash_hub.py DIR before-ack K      # the K-th batch with acks: committed, no ack sent yet

Test-only: nothing in console/ is changed or asked to cooperate. `before-commit` watches the
log connection's SQL through sqlite3's trace callback and dies as the COMMIT statement starts;
`before-ack` wraps Hub._emit and dies before the first reply of the K-th batch holding a station's report leaves. Both are
real SIGKILLs of the whole process, the same signal the kill loops use.
"""
from __future__ import annotations

import os
import signal
import sys

from console import cli
from console.hub import server as hub
from console.hub import store


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def before_commit(k: int) -> None:
    original = store.Store.__init__

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        if not kwargs.get("writer"):
            return
        seen = {"commits": 0, "inserted": False}

        def trace(sql: str) -> None:
            head = sql.lstrip()[:20].upper()
            if head.startswith("BEGIN"):
                seen["inserted"] = False
            elif head.startswith("INSERT INTO EVENTS"):
                seen["inserted"] = True
            elif head.startswith("COMMIT") and seen["inserted"]:
                seen["commits"] += 1
                if seen["commits"] >= k:
                    # The batch being committed would start at this gseq: none of it may survive.
                    print(f"crash point: before-commit #{seen['commits']} first-gseq {self.next_gseq}",
                          flush=True)
                    _die()

        self.conn.set_trace_callback(trace)

    store.Store.__init__ = __init__


def before_ack(k: int) -> None:
    original = hub.Hub._emit
    seen = [0]

    def _emit(self, outcome):
        # A batch that stored a station's report (not only the hub's own records, such as a station
        # coming online with its welcome): its acks are what the crash must keep from leaving.
        if outcome.replies and any(row.station != "hub" for row in outcome.stored):
            seen[0] += 1
            if seen[0] >= k:
                print(f"crash point: before-ack #{seen[0]}, {len(outcome.stored)} committed", flush=True)
                _die()
        return original(self, outcome)

    hub.Hub._emit = _emit


if __name__ == "__main__":
    folder, point, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
    {"before-commit": before_commit, "before-ack": before_ack}[point](k)
    sys.exit(cli.main(["hub", folder, "--lang", "en"]))   # tests/faultkit.py reads its closing line back
