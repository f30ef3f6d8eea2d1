"""A big button that shows its key ("F1 车辆入场") and stands for one action of the screen."""
from __future__ import annotations

from textual.widgets import Button


def key_label(key: str) -> str:
    return key.upper() if key.startswith("f") else key


class KeyButton(Button):
    """Clicking it does what its key does. It never takes focus: keys go to the screen's bindings."""

    can_focus = False

    def __init__(self, action_id: str, key: str, label: str, **kw) -> None:
        super().__init__(self.text(key, label), id=f"act-{action_id}", **kw)
        self.action_id, self.key = action_id, key

    @staticmethod
    def text(key: str, label: str) -> str:
        return f"{key_label(key)} {label}"

    def relabel(self, label: str) -> None:
        self.label = self.text(self.key, label)
