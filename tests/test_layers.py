"""The core runs without the screen: importing it in a fresh interpreter loads no Textual."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CORE = ["protocols.messages", "protocols.codec", "protocols.keys", "protocols.i18n", "console.event.folder",
        "console.hub.store", "console.core.state", "console.hub.ingest", "console.hub.server", "stations.outbox.store", "stations.link.client", "stations.link.loop",
        "console.event.guests", "console.core.readiness", "console.core.guests_rules"]


def test_core_imports_without_textual():
    code = ("import sys\n" + "".join(f"import {m}\n" for m in CORE) +
            "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
            "print(','.join(bad))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"the core pulled in Textual: {result.stdout}"


def test_import_contracts_hold():
    """import-linter's contracts from pyproject.toml (protocols alone, stations knows only protocols...)."""
    tool = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(tool)], capture_output=True, text=True, timeout=120,
                            cwd=Path(__file__).resolve().parent.parent)
    assert result.returncode == 0, result.stdout + result.stderr
