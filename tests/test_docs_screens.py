"""The README's pictures are the snapshot tests' own fixtures, byte for byte: they show what the tests check."""
from __future__ import annotations

import pytest

from tests.docs_screens import pairs


@pytest.mark.parametrize(("picture", "source"), pairs(), ids=lambda p: p.name)
def test_each_picture_is_its_snapshot(picture, source):
    assert picture.read_bytes() == source.read_bytes(), \
        f"{picture.name} is not {source.name}: run `.venv/bin/python -m tests.docs_screens`"
