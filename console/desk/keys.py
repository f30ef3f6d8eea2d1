"""Every key of the desk in one table: bindings, the footer, the help screen and the command palette all read it."""
from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class Key:
    keys: str            # Textual key names, comma separated
    action: str
    text: str            # catalogue key of the description
    scope: str           # app | board | incident | desk | plan (bound by the plan checklist) | service | detail | doc
    display: str = ""    # how the help screen writes the key, when it differs from `keys`
    footer: bool = True


KEYS: tuple[Key, ...] = (
    Key("a", "acknowledge", "desk.key.acknowledge", "incident"),
    Key("d", "assign", "desk.key.assign", "incident"),
    Key("n", "annotate", "desk.key.annotate", "incident"),
    Key("r", "resolve", "desk.key.resolve", "incident"),
    Key("i", "open_incident", "desk.key.open_incident", "desk"),
    Key("s", "send_instruction", "desk.key.send_instruction", "desk"),
    Key("m", "log_note", "desk.key.log_note", "desk", footer=False),
    Key("t", "instructions", "desk.key.instructions", "desk"),
    Key("p", "plans", "plan.key.plans", "desk"),
    Key("e", "start_plan", "plan.key.start", "desk", footer=False),
    Key("c", "confirm_step", "plan.key.confirm", "plan", "c / Enter"),
    Key("w", "skip_step", "plan.key.skip", "plan"),
    Key("x", "stand_down", "plan.key.stand_down", "plan"),
    Key("k", "sign_off", "desk.key.sign_off", "desk", footer=False),
    Key("b", "sendoff", "guestdesk.sendoff.key", "desk", footer=False),   # bye: 恭送
    Key("u", "expect_arrival", "guestdesk.expect.key", "desk", footer=False),   # update: 改预计到达
    Key("v", "add_party", "guestdesk.add.key", "desk", footer=False),           # VIP: 临时增加来宾组
    # Preparation from the desk (issue 16 item 6): capitals (with Shift), on the readiness board's footer (o).
    Key("T", "add_task", "readiness.prep.key.add_task", "desk", footer=False),        # 任务 rènwu
    Key("C", "change_task", "readiness.prep.key.change_task", "desk", footer=False),  # change: assign, reschedule
    Key("R", "add_slot", "readiness.prep.key.add_slot", "desk", footer=False),        # roster
    Key("M", "move_slot", "readiness.prep.key.move_slot", "desk", footer=False),
    Key("E", "end_slot", "readiness.prep.key.end_slot", "desk", footer=False),
    Key("P", "prep_stage", "readiness.prep.key.stage", "desk", footer=False),        # the plan's stages
    Key("slash", "filter", "desk.key.filter", "board", "/", footer=False),
    Key("enter", "", "desk.key.enter", "doc", "Enter"),
    Key("tab", "", "desk.key.tab", "doc", "Tab ⇧Tab"),
    Key("escape", "back", "desk.key.back", "detail", "Esc"),
    Key("z", "summary", "report.desk.key", "app", footer=False),   # 总结 zǒngjié: the post-event summary
    Key("o", "readiness", "desk.key.readiness", "app", footer=False),
    Key("g", "guests", "desk.key.guests", "app", footer=False),
    Key("f", "services", "desk.svc.key.services", "app", footer=False),   # 服务 fúwù: the service calls
    Key("h", "phones", "desk.key.phones", "app", footer=False),   # handsets: pairing codes, phones paired, revoke
    Key("j", "take_call", "desk.svc.key.take", "service"),                # 接单 jiēdān
    Key("y", "finish_call", "desk.svc.key.finish", "service"),            # 已完成 yǐ wánchéng
    Key("q", "cancel_call", "desk.svc.key.cancel", "service"),            # 取消 qǔxiāo
    Key("l", "toggle_lang", "desk.key.lang", "app"),
    Key("f1,question_mark", "help", "desk.key.help", "app", "F1 / ?"),
    Key("ctrl+p", "command_palette", "desk.key.palette", "app", "Ctrl+P", footer=False),
    Key("ctrl+q", "quit", "desk.key.quit", "app", "Ctrl+Q"),
)

#: Actions that change the event: refused in wall mode and without a hub.
OPERATOR_SCOPES = ("incident", "desk", "plan", "service")
OPERATOR_ACTIONS = frozenset(k.action for k in KEYS if k.scope in OPERATOR_SCOPES)


def bindings(*scopes: str, quiet: tuple[str, ...] = ()) -> list[Binding]:
    """Textual bindings for the keys of `scopes`; the description is a catalogue key the footer translates.

    Keys of a `quiet` scope work but stay out of the footer: a screen that looks into one thing shows
    the keys that act on it, and the desk-wide ones are on F1 and in the palette (at 120 columns the
    footer holds every key it shows, in both languages)."""
    return [Binding(k.keys, k.action, k.text, show=k.footer and k.scope not in quiet, key_display=k.display or None)
            for k in KEYS if k.scope in scopes and k.action]
