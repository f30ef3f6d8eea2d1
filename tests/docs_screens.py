"""The README's screen pictures are snapshot-test fixtures: which one each is, and a copier (`python -m tests.docs_screens`).

A picture in docs/screens/ shows exactly what a snapshot test checks; when a snapshot is
regenerated, run this module to copy it over (test_docs_screens fails until then).
"""
from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAPS = ROOT / "tests" / "__snapshots__"
PICTURES = {
    "desk-zh-160x48.svg": "test_desk_plans_snapshots/test_main_screen_with_plans[zh-160x48].svg",
    "desk-en-80x24.svg": "test_desk_snapshots/test_main_screen[en-80x24].svg",
    "plans-zh-80x24.svg": "test_desk_plans_snapshots/test_plans_screen[zh-80x24].svg",
    "notices-zh-80x24.svg": "test_desk_snapshots/test_notices_at_80x24_in_chinese.svg",
    "readiness-zh.svg": "test_readiness_snapshots/test_readiness_board[zh].svg",
    "station-gate-en.svg": "test_station_app_snapshots/test_post_screen_snapshot[gate-1-en].svg",
    "station-lobby-fire-zh.svg": "test_station_plan_snapshots/test_lobby_with_a_fire_task[zh].svg",
}


def pairs() -> list[tuple[Path, Path]]:
    return [(ROOT / "docs" / "screens" / name, SNAPS / source) for name, source in PICTURES.items()]


if __name__ == "__main__":
    for picture, source in pairs():
        shutil.copyfile(source, picture)
        print(f"{picture.relative_to(ROOT)} <- {source.relative_to(ROOT)}")
