"""The Binary Star state machine on its own, by stepping `now`: start rules, takeover only on a lost peer and a client, no split brain when only the hubs' link is cut, two actives settled by era."""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from console.core import binary_star as B

pytestmark = pytest.mark.pure

HB = 1000            # the hub heartbeat: the peer window is 2 000 ms


def test_start_rules() -> None:
    p = B.start(B.PRIMARY, now_ms=0, heartbeat_ms=HB)
    b = B.start(B.BACKUP, now_ms=0, heartbeat_ms=HB)
    assert (p.state, b.state, p.window_ms) == (B.PRIMARY, B.BACKUP, 2 * HB)
    step = B.peer_said(p, B.BACKUP, era=0, now_ms=100)          # the primary hears a waiting backup
    assert step.pair.state == B.ACTIVE and step.switched and step.reason == B.PEER_WAITING
    assert step.pair.era == 1
    step_b = B.peer_said(b, B.ACTIVE, era=1, now_ms=150)         # the backup hears it active
    assert step_b.pair.state == B.PASSIVE and not step_b.switched
    assert B.peer_said(b, B.PRIMARY, era=0, now_ms=150).pair.state == B.BACKUP   # both still waiting
    with pytest.raises(ValueError):
        B.start("tertiary", now_ms=0, heartbeat_ms=HB)
    with pytest.raises(ValueError):
        B.peer_said(p, "confused", era=0, now_ms=0)


def test_a_backup_never_serves_before_it_followed_a_primary() -> None:
    b = B.start(B.BACKUP, now_ms=0, heartbeat_ms=HB)
    for now in (0, 1_000, 60_000, 3_600_000):                    # however long the primary stays away
        step = B.client_came(b, now)
        assert step.answer == B.REFUSED and step.pair.state == B.BACKUP


def test_a_primary_alone_waits_the_peer_window_then_serves() -> None:
    p = B.start(B.PRIMARY, now_ms=10_000, heartbeat_ms=HB, era=3)
    early = B.client_came(p, 10_000 + 2 * HB - 1)
    assert early.answer == B.REFUSED and early.pair.state == B.PRIMARY
    late = B.client_came(p, 10_000 + 2 * HB)
    assert late.answer == B.SERVED and late.switched and late.reason == B.ALONE
    assert late.pair.era == 4                                     # a new era after the log's last


def test_a_restarted_primary_hears_the_active_backup_first_and_turns_passive() -> None:
    p = B.start(B.PRIMARY, now_ms=0, heartbeat_ms=HB, era=1)
    p = B.peer_said(p, B.ACTIVE, era=2, now_ms=500).pair
    assert p.state == B.PASSIVE and p.era == 1 and p.peer_era == 2
    assert B.client_came(p, 1_000).answer == B.REFUSED           # the backup still lives: clients go there


def passive_backup(now_ms: int = 0) -> B.Pair:
    b = B.start(B.BACKUP, now_ms=now_ms, heartbeat_ms=HB)
    return B.peer_said(b, B.ACTIVE, era=1, now_ms=now_ms).pair


def test_takeover_needs_a_lost_peer_and_a_client() -> None:
    b = passive_backup()
    assert B.client_came(b, 2 * HB - 1).answer == B.REFUSED      # the peer is within its window
    assert not b.peer_lost(2 * HB - 1) and b.peer_lost(2 * HB)
    step = B.client_came(b, 2 * HB)
    assert step.answer == B.SERVED and step.switched and step.reason == B.PEER_LOST
    assert step.pair.state == B.ACTIVE and step.pair.era == 2    # after the primary's era 1
    # The same lost peer with no client: nothing happens, however long.
    assert B.peer_said(b, B.ACTIVE, era=1, now_ms=HB).pair.state == B.PASSIVE


def test_a_passive_becomes_active_when_its_peer_restarts() -> None:
    b = passive_backup()
    step = B.peer_said(b, B.PRIMARY, era=1, now_ms=300)          # the primary died and came back quickly
    assert step.pair.state == B.ACTIVE and step.switched and step.reason == B.PEER_RESTARTED
    primary_passive = B.peer_said(B.start(B.PRIMARY, 0, HB, era=1), B.ACTIVE, era=2, now_ms=0).pair
    assert B.peer_said(primary_passive, B.BACKUP, era=2, now_ms=10).pair.state == B.ACTIVE


def test_two_passives_the_primary_takes_it() -> None:
    primary_passive = B.peer_said(B.start(B.PRIMARY, 0, HB, era=1), B.ACTIVE, era=2, now_ms=0).pair
    assert B.peer_said(primary_passive, B.PASSIVE, era=2, now_ms=10).pair.state == B.ACTIVE
    backup_passive = passive_backup()
    assert B.peer_said(backup_passive, B.PASSIVE, era=1, now_ms=10).pair.state == B.PASSIVE


@pytest.mark.parametrize(("mine", "theirs", "role", "gives_way"), [
    (2, 3, B.PRIMARY, True),     # a frozen primary resumes after the backup took over: it gives way
    (3, 2, B.BACKUP, False),     # the backup that took over keeps going
    (2, 2, B.BACKUP, True),      # equal eras: the primary stays
    (2, 2, B.PRIMARY, False),
])
def test_two_actives_the_later_era_stays(mine: int, theirs: int, role: str, gives_way: bool) -> None:
    pair = B.Pair(role=role, state=B.ACTIVE, era=mine, window_ms=2 * HB, started_ms=0)
    step = B.peer_said(pair, B.ACTIVE, era=theirs, now_ms=5)
    assert step.gave_way is gives_way
    assert step.pair.state == (B.PASSIVE if gives_way else B.ACTIVE)
    assert not step.switched


def test_redundant_only_with_one_active_and_one_passive_in_step() -> None:
    p = B.peer_said(B.start(B.PRIMARY, 0, HB), B.BACKUP, era=0, now_ms=0).pair
    assert not B.redundant(p, 10, alone_after_ms=5_000)          # the backup has not followed yet
    p = B.peer_said(p, B.PASSIVE, era=0, now_ms=1_000).pair
    assert B.redundant(p, 5_999, alone_after_ms=5_000)
    assert not B.redundant(p, 6_000, alone_after_ms=5_000)       # the backup silent for 5 s: alone
    assert not B.redundant(B.start(B.BACKUP, 0, HB), 1, alone_after_ms=5_000)


# --- Two hubs and their clients on one stepped clock -------------------------------------------------------

@dataclass
class World:
    """Two hubs that publish their state every heartbeat, a link between them that can be cut, and clients."""

    primary: B.Pair = field(default_factory=lambda: B.start(B.PRIMARY, 0, HB))
    backup: B.Pair = field(default_factory=lambda: B.start(B.BACKUP, 0, HB))
    alive: dict[str, bool] = field(default_factory=lambda: {B.PRIMARY: True, B.BACKUP: True})
    hubs_link: bool = True
    now: int = 0
    switches: list[tuple[int, str, int, str]] = field(default_factory=list)

    def hub(self, role: str) -> B.Pair:
        return self.primary if role == B.PRIMARY else self.backup

    def _set(self, role: str, step: B.Step) -> B.Step:
        if role == B.PRIMARY:
            self.primary = step.pair
        else:
            self.backup = step.pair
        if step.switched:
            self.switches.append((self.now, role, step.pair.era, step.reason))
        return step

    def heartbeat(self) -> None:
        self.now += HB
        if not self.hubs_link:
            return
        for me, other in ((B.PRIMARY, B.BACKUP), (B.BACKUP, B.PRIMARY)):
            if self.alive[me] and self.alive[other]:
                o = self.hub(other)
                self._set(me, B.peer_said(self.hub(me), o.state, o.era, self.now))

    def client(self, role: str) -> str:
        """A client's hello reaches the hub `role` (if it runs): served or refused."""
        if not self.alive[role]:
            return B.REFUSED
        return self._set(role, B.client_came(self.hub(role), self.now)).answer

    def client_anywhere(self, first: str = B.PRIMARY) -> str:
        """A client as PROTOCOL.md 5.13 says: the hub it knows, then the other one when refused or silent."""
        other = B.BACKUP if first == B.PRIMARY else B.PRIMARY
        return first if self.client(first) == B.SERVED else (other if self.client(other) == B.SERVED else "")

    def actives(self) -> list[str]:
        return [r for r in (B.PRIMARY, B.BACKUP) if self.alive[r] and self.hub(r).state == B.ACTIVE]


def settled() -> World:
    w = World()
    for _ in range(3):
        w.heartbeat()
    assert (w.primary.state, w.backup.state) == (B.ACTIVE, B.PASSIVE)
    assert w.client_anywhere() == B.PRIMARY
    return w


def test_only_the_hubs_link_cut_clients_still_at_the_primary_no_takeover() -> None:
    w = settled()
    w.hubs_link = False
    for _ in range(120):                        # two minutes of a cut, clients busy with the primary
        w.heartbeat()
        assert w.client(B.PRIMARY) == B.SERVED
        assert w.actives() == [B.PRIMARY]
    assert w.backup.peer_lost(w.now) and w.backup.state == B.PASSIVE
    w.hubs_link = True
    w.heartbeat()
    assert (w.primary.state, w.backup.state) == (B.ACTIVE, B.PASSIVE)
    assert [s[1] for s in w.switches] == [B.PRIMARY]


def test_primary_killed_then_back_one_active_at_every_step() -> None:
    w = settled()
    w.alive[B.PRIMARY] = False
    w.heartbeat()
    assert w.client_anywhere() == ""           # a client within the peer window finds nobody to serve it
    w.heartbeat()
    w.heartbeat()                               # its liveness (3 heartbeats) ran out: it moves
    assert w.client_anywhere() == B.BACKUP
    assert w.actives() == [B.BACKUP] and w.backup.era == 2
    # The primary comes back (a new process): it waits, hears the active backup and follows it.
    w.alive[B.PRIMARY] = True
    w.primary = B.start(B.PRIMARY, w.now, HB, era=1)
    assert w.client(B.PRIMARY) == B.REFUSED    # within its window it serves nobody
    w.heartbeat()
    assert (w.primary.state, w.backup.state) == (B.PASSIVE, B.ACTIVE)
    assert w.client_anywhere() == B.BACKUP
    assert B.redundant(w.backup, w.now, alone_after_ms=5_000)
    assert [(r, era, why) for _, r, era, why in w.switches] == [
        (B.PRIMARY, 1, B.PEER_WAITING), (B.BACKUP, 2, B.PEER_LOST)]


def test_primary_frozen_and_resumed_gives_way_to_the_later_era() -> None:
    w = settled()
    w.alive[B.PRIMARY] = False                  # SIGSTOP: it publishes nothing and answers nothing
    for _ in range(3):
        w.heartbeat()
    assert w.client_anywhere() == B.BACKUP
    w.alive[B.PRIMARY] = True                   # SIGCONT: it still thinks it is active, in era 1
    assert w.primary.state == B.ACTIVE
    w.heartbeat()
    assert w.actives() == [B.BACKUP] and w.primary.state == B.PASSIVE
    assert w.client_anywhere() == B.BACKUP


def test_backup_killed_the_primary_stays_and_is_alone() -> None:
    w = settled()
    w.alive[B.BACKUP] = False
    for _ in range(10):
        w.heartbeat()
        assert w.client(B.PRIMARY) == B.SERVED
    assert w.actives() == [B.PRIMARY]
    assert not B.redundant(w.primary, w.now, alone_after_ms=5_000)
