"""The demo under the real desk screen (Textual's Pilot): a throwaway event, the opening day playing, live drill data on screen."""
from __future__ import annotations

import asyncio
import time

import pytest

from console.core.state import new_state
from console.desk.app import DeskApp
from console.desk.link import DeskLink
from console.desk.widgets.chrome import DrillBanner
from scenarios.command import DEMO_SCENARIO, _Background
from scenarios.runner import Options, Rehearsal

pytestmark = pytest.mark.timeout(120)


async def wait_until(pilot, predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        await pilot.pause(0.1)
    return value


def test_demo_shows_live_drill_data_on_the_desk(tmp_path):
    asyncio.run(demo_on_the_desk(tmp_path))   # no asyncio plugin here: one loop per test


async def demo_on_the_desk(tmp_path):
    reh = Rehearsal(DEMO_SCENARIO, Options(dir=tmp_path / "demo", speed=300, sim_desk=True, hold=True, write=False,
                                           lang="en"))
    bg = _Background(reh).start()
    link = None
    try:
        assert bg.ready.wait(30) and bg.error is None, bg.error
        folder = reh.folder
        info = folder.read_runtime(drill=True)
        assert info and info["drill"] is True
        # The simulated terminals were welcomed as a drill, like the desk below.
        assert all(st.client.status().drill for st in reh.stations.values())
        desk = reh.run_.scenario.event.desks[-1]      # the person's desk; the simulated operator is desks[0]
        link = DeskLink(desk, info["endpoint"], info["feed"], folder.desk_key(desk), folder.console_public,
                        tmp_path / "desk.outbox.db")
        app = DeskApp(link=link, state=new_state(folder.load().summary()), lang="en", drill=True, desk=desk)
        link.start()
        async with app.run_test(size=(160, 50)) as pilot:
            view = await wait_until(pilot, lambda: (v := app.current_view) is not None and v.hub == "ok"
                                    and v.state.people.get("arrivals", 0) >= 20 and v, 40, "guests on the desk")
            first_gseq = view.state.gseq
            assert view.drill   # the hub's welcome said drill: the desk knows it is a rehearsal
            banner = app.screen.query_one(DrillBanner)
            assert banner.display and "DRILL" in str(banner.render())
            # The picture keeps moving: more reports arrive while the screen runs, cars among them.
            await wait_until(pilot, lambda: app.current_view.state.gseq > first_gseq + 50, 30, "more events")
            assert app.current_view.state.cars.get("in", 0) > 0
    finally:
        if link is not None:
            link.close()
        reh.stop()
        bg.join()
    assert bg.error is None and bg.card is not None and bg.card["drill"]
    assert not reh.folder.db(drill=False).exists()


@pytest.mark.parametrize("sim_desk", [None, True])
def test_the_demo_leaves_the_desk_to_the_person_unless_asked(tmp_path, sim_desk):
    """`eventdesk demo` opens the person's desk with nobody else answering; --sim-desk adds the simulated operator."""
    import argparse
    import io

    from rich.console import Console

    from scenarios.command import demo

    opened: list[str] = []

    def screen(root, desk, lang) -> int:   # the person closes the desk at once
        opened.append(desk)
        return 0

    out = io.StringIO()
    args = argparse.Namespace(lang="en", speed=300, headless=False, dir=tmp_path / "demo", sim_desk=sim_desk)
    demo(args, screen=screen, console=Console(file=out, width=200))
    desks = ["desk-1", "desk-2"]
    assert opened == ([desks[-1]] if sim_desk else [desks[0]])
    told = "The desk is yours" in out.getvalue()
    assert told is (not sim_desk)
