"""The desk's dialogs (Pilot, both languages): focus starts where Enter sends, and "please fill in" goes once filled (issue 17)."""
from __future__ import annotations

import pytest
from textual.widgets import Input, OptionList, Select, Static

from console.desk.app import DeskApp
from console.desk.screens.modals import DeskModal
from protocols.i18n import t
from tests.desk_support import T0, aio, fixture_state, settled

# key that opens the dialog, what Enter on an empty dialog says, the field that answers it
TEXT_DIALOGS = [("n", "desk.modal.need_text", "text"),   # a note on the selected incident
                ("s", "desk.modal.need_text", "text"),   # an instruction
                ("m", "desk.modal.need_text", "text"),   # a duty-log note (with a department dropdown)
                ("i", "desk.modal.need_kind", "kind")]   # a new incident (a kind dropdown first)


def error_text(app: DeskApp) -> str:
    return str(app.screen.query_one("#dialog-error", Static).render())


@pytest.mark.parametrize("key,need,field", TEXT_DIALOGS, ids=[k for k, _, _ in TEXT_DIALOGS])
@pytest.mark.parametrize("lang", ["zh", "en"])
@aio
async def test_enter_sends_and_the_missing_field_message_goes_once_filled(lang, key, need, field):
    app = DeskApp(state=fixture_state(), clock=lambda: T0, lang=lang, desk="desk-1")
    async with app.run_test(size=(100, 30)) as pilot:
        await settled(key)(pilot)
        dialog = app.screen
        assert isinstance(dialog, DeskModal)
        assert isinstance(app.focused, Input), f"focus on {app.focused!r}: Enter would not send"
        await pilot.press("enter")
        await pilot.pause()
        # Enter tried to send (no dropdown opened): the dialog says what is missing and stays.
        assert app.screen is dialog and not any(s.expanded for s in dialog.query(Select))
        assert error_text(app) == t(need, lang)
        if field == "kind":
            await pilot.press("z")   # typing elsewhere does not answer "choose a kind"
            await pilot.pause()
            assert error_text(app) == t(need, lang)
            dialog.query_one("#kind", Select).value = "medical"
        else:
            await pilot.press("x")
        await pilot.pause()
        assert error_text(app) == "", "the message stayed after the field was filled"


@aio
async def test_a_list_dialog_starts_on_its_list():
    """Assigning a department: arrows and Enter pick one."""
    app = DeskApp(state=fixture_state(), clock=lambda: T0, lang="zh", desk="desk-1")
    async with app.run_test(size=(100, 30)) as pilot:
        await settled("d")(pilot)
        assert isinstance(app.screen, DeskModal) and isinstance(app.focused, OptionList)
