"""The desk's pair indicator (PROTOCOL.md 5.13): which hub is active and how the other is, in the header, from welcome and presence frames built with protocols.session and read by the desk link's reader into the real follower; snapshots at 80×24 and 160×48 in zh and en.

Nothing is shown for one hub (`peer: none`), for an older hub whose frames carry no `pair`, or while
the desk cannot hear its hub; the header's words are checked here too, so a case the snapshots share
pixels with still fails on its own.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from console.core.follower import Follower
from console.desk import app as desk_app
from console.desk.app import DeskApp
from console.desk.link import load_snapshot
from console.desk.widgets.chrome import DeskHeader
from console.desk.widgets.view import View, pair_words
from protocols import codec
from protocols.session import REPLIES
from tests.desk_support import T0, aio, fixture_state, settled

SIZES = [(80, 24), (160, 48)]
CASES = [("primary", "in_step"), ("primary", "behind"), ("primary", "lost"),
         ("backup", "in_step"), ("backup", "behind"), ("backup", "lost"), ("primary", "none")]


def welcome_frames(pair: dict[str, Any] | None) -> list[bytes]:
    """A welcome as a hub of issue 19 sends it: `hubs` (the active one first) and `pair`; an older hub sends neither."""
    body: dict[str, Any] = {"station": "desk-1", "post": "desk", "server_ms": T0, "heartbeat_ms": 1000}
    if pair is not None:
        body |= {"pair": pair, "hubs": [{"endpoint": "tcp://127.0.0.1:7750", "feed": "tcp://127.0.0.1:7751"},
                                        {"endpoint": "tcp://127.0.0.1:7760", "feed": "tcp://127.0.0.1:7761"}]}
    return REPLIES.body_frames("welcome", body)


def presence_frames(pair: dict[str, Any] | None) -> list[bytes]:
    body: dict[str, Any] = {"server_ms": T0, "stations": {}, "gseq": 0}
    return REPLIES.body_frames("presence", body | ({"pair": pair} if pair is not None else {}))


def followed(me: str, peer: str, *, era: int = 2, older_hub: bool = False) -> Follower:
    """A follower told of the pair by a welcome (in step) and then a presence (as the case says)."""
    f = Follower(load_snapshot, hubs=(("tcp://127.0.0.1:7750", "tcp://127.0.0.1:7751"),))
    f.heard(0.0, sub=True)
    f.start(0.0)
    first = None if older_hub else {"me": me, "era": era, "peer": "in_step" if peer != "none" else "none"}
    f.welcome(codec.decode(welcome_frames(first)).message, 0.1)
    f.presence(codec.decode(presence_frames(None if older_hub else {"me": me, "era": era, "peer": peer})).message, 0.2)
    return f


class PairDesk(DeskApp):
    """The desk on the fixture picture, its hub heard now and the pair as the follower has it."""

    CSS_PATH = str(Path(desk_app.__file__).with_name("desk.tcss"))   # Textual reads it beside the class's module

    def __init__(self, follower: Follower, lang: str, hub: str = "ok") -> None:
        super().__init__(state=fixture_state(), clock=lambda: T0, lang=lang, desk="desk-1")
        self.follower, self.hub = follower, hub

    def build_view(self) -> View:
        return dataclasses.replace(super().build_view(), hub=self.hub, hub_heard_ms=T0, pair=self.follower.pair)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[1]}")
def test_the_header_says_which_hub_is_active_and_how_the_other_is(snap_compare, case, lang, size):
    assert snap_compare(PairDesk(followed(*case), lang), run_before=settled(), terminal_size=size)


WORDS = {
    ("primary", "in_step", "zh"): ("主服务器运行 · 备用服务器同步", "ok"),
    ("primary", "behind", "zh"): ("主服务器运行 · 备用服务器追赶中", "behind"),
    ("primary", "lost", "zh"): ("主服务器运行 · 备用服务器失联", "lost"),
    ("backup", "in_step", "en"): ("backup server active · primary in step", "ok"),
    ("backup", "behind", "en"): ("backup server active · primary catching up", "behind"),
    ("backup", "lost", "en"): ("backup server active · primary lost", "lost"),
}


@pytest.mark.parametrize("key", WORDS, ids=lambda k: "-".join(k))
def test_the_words_for_each_case(key):
    me, peer, lang = key
    view = View(fixture_state(), T0, lang, hub="ok", pair=followed(me, peer).pair)
    assert pair_words(view) == WORDS[key]


@pytest.mark.parametrize("hub", ["lost", "connecting", "local"])
def test_nothing_is_said_of_the_pair_while_the_desk_cannot_hear_its_hub(hub):
    assert pair_words(View(fixture_state(), T0, "zh", hub=hub, pair=followed("backup", "in_step").pair)) is None


def test_an_older_hub_and_a_hub_without_a_backup_show_nothing():
    older = followed("primary", "in_step", older_hub=True)
    assert older.pair is None and older.era is None
    assert pair_words(View(fixture_state(), T0, "en", hub="ok", pair=older.pair)) is None
    alone = followed("primary", "none")
    assert alone.pair is not None and pair_words(View(fixture_state(), T0, "en", hub="ok", pair=alone.pair)) is None


@aio
async def test_the_header_line_holds_the_words_on_screen():
    app = PairDesk(followed("backup", "lost"), "zh")
    async with app.run_test(size=(160, 48)) as pilot:
        await settled()(pilot)
        line = str(app.query_one(DeskHeader).render())
        assert "备用服务器运行 · 主服务器失联" in line
