"""The scenarios package keeps its boundaries: it talks to the hub only over the wire and never loads the screen."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import scenarios

ROOT = Path(scenarios.__file__).resolve().parent
# Ours it may use: the wire contract, the station client, the event folder, the log (read-only), the fold and
# the summary's reading of it (console.report.summary: the scorecard and the summary are one fold), and the
# scorecard's words, which the summary's drill section shares (console.report.card_text); and the desk's
# Clone follower, which orders the feed watcher's events (console.core.follower).
ALLOWED_OURS = ("protocols", "stations", "console.event.folder", "console.hub.store", "console.core.state",
                "console.report.summary", "console.report.card_text", "scenarios", "console.core.follower",
                # A scenario's own guest list ([[guest]]) is checked and written as `eventdesk guests import` does.
                "console.core.guests_check", "console.event.guests",
                # The plans' names, so a scorecard names a plan that never ran by its words (names only).
                "console.event.plan_files",
                # A bad scenario file is told in the event file's frame: the place in the file, values as written.
                "console.core.toml_where", "console.core.toml_table")
OURS = ("protocols", "stations", "console", "scenarios")


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            if node.module == "console":   # `from console import state` imports console.core.state
                found |= {f"console.{a.name}" for a in node.names}
    return found


def test_scenarios_import_only_what_the_design_allows():
    bad = {}
    for path in sorted(ROOT.glob("*.py")):
        for name in imports(path):
            top = name.split(".")[0]
            if name == "console" or top not in OURS:
                if top in ("textual",):
                    bad.setdefault(path.name, []).append(name)
                continue
            if not any(name == a or name.startswith(a + ".") for a in ALLOWED_OURS):
                bad.setdefault(path.name, []).append(name)
    assert not bad, f"scenarios imports outside its boundary: {bad}"


@pytest.mark.wire
def test_the_runner_loads_neither_the_hub_nor_textual():
    code = ("import sys, scenarios.runner, scenarios.command, scenarios.scorecard\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'textual'"
            " or m in ('console.hub.server', 'console.hub.ingest', 'console.desk.app', 'console.core.plan_library'))\n"
            "print(','.join(bad))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"scenarios pulled in: {result.stdout}"


def test_modules_are_small_and_say_what_they_are():
    for path in sorted(ROOT.glob("*.py")):
        text = path.read_text("utf-8")
        assert len(text.splitlines()) < 400, path.name
        doc = ast.get_docstring(ast.parse(text))
        assert doc and doc.splitlines()[0].strip(), f"{path.name} has no docstring"
