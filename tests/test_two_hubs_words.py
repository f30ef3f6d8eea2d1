"""Two hubs in words (issue 19): the summary's line per hub switch and E_PASSIVE's sentence, in zh and en; pure."""
from __future__ import annotations

from console.hub.store import Row
from console.report import doc, render
from console.report.summary import summarise
from protocols import codec
from protocols.codec import ProtocolError
from tests.report_fixture import T0, S, summary_dict
from tests.staff_text import leaks


def _summary():
    rows = [(T0, "hub", "hub_switch", {"era": 1, "hub": "primary", "after_gseq": 0, "reason": "alone"}),
            (T0 + 10 * S, "gate-1", "car_in", {"count": 1}),
            (T0 + 20 * S, "hub", "hub_switch", {"era": 2, "hub": "backup", "after_gseq": 2, "reason": "peer_lost"})]
    return summarise([Row(g, st, "e", g, ty, ms, ms, body) for g, (ms, st, ty, body) in enumerate(rows, 1)],
                     summary_dict())


def test_the_summary_has_a_line_per_hub_switch_in_both_languages():
    s = _summary()
    assert [(x["era"], x["hub"], x["reason"]) for x in s.extra["hub_switches"]] == [(1, "primary", "alone"),
                                                                                   (2, "backup", "peer_lost")]
    zh = render.markdown(doc.build(s, "zh"), {})
    en = render.markdown(doc.build(s, "en"), {})
    assert "主备服务器切换" in zh and "备用服务器开始工作（第 2 轮，原因：另一台失联）" in zh
    assert "Server switches" in en and "the backup server took over (era 2: the other was lost)" in en
    assert "peer_lost" not in zh + en
    section = zh[zh.index("主备服务器切换"):]
    assert leaks(section[:section.index("\n#")] if "\n#" in section else section, ()) == []


def test_a_summary_without_switches_has_no_such_section():
    rows = [Row(1, "gate-1", "e", 1, "car_in", T0, T0, {"count": 1})]
    assert "主备服务器切换" not in render.markdown(doc.build(summarise(rows, summary_dict()), "zh"), {})


def test_e_passive_is_a_retry_with_a_sentence_a_post_worker_understands():
    err = ProtocolError("E_PASSIVE")
    assert err.retry and "E_PASSIVE" in codec.RETRYABLE
    assert "备用系统" in err.zh and "不会丢失" in err.zh and "standby" in err.en
    assert leaks(err.zh, ()) == []


def test_the_desk_timeline_names_a_hub_switch_in_words() -> None:
    from console.core.state import new_state
    from console.desk.widgets import fmt
    rec = {"type": "hub_switch", "station": "hub",
           "body": {"era": 2, "hub": "backup", "after_gseq": 2, "reason": "peer_lost"}}
    zh = fmt.describe(rec, new_state(summary_dict()), "zh").plain
    en = fmt.describe(rec, new_state(summary_dict()), "en").plain
    assert "备用服务器开始工作（第 2 轮，原因：另一台失联）" in zh and "主备服务器切换" in zh
    assert "the backup server took over (era 2: the other was lost)" in en
    assert "peer_lost" not in zh + en and leaks(zh, ()) == []


def test_the_station_server_knows_the_backup(tmp_path) -> None:
    """The station server for phones takes the backup from event.toml (5.13), as the terminal and the
    one-shot report do; checked on the clients it builds, no hub needed."""
    import re

    from console import stations_serve
    from console.event.folder import EventFolder, init_folder, make_keys
    root = tmp_path / "ev"
    init_folder(root, date="2027-03-18")
    toml = root / "event.toml"
    toml.write_text(re.sub(r'\[hub\]\n', '[hub]\nbackup_endpoint = "tcp://127.0.0.2:7750"\n'
                                        'backup_feed = "tcp://127.0.0.2:7751"\n', toml.read_text("utf-8"), count=1),
                    "utf-8")
    folder = EventFolder(root)
    make_keys(folder)
    server = stations_serve.build_server(folder, "zh")
    try:
        hubs = {t.client.settings.hubs()[1] for t in server.terminals.values()}
        assert hubs == {("tcp://127.0.0.2:7750", "tcp://127.0.0.2:7751")}
    finally:
        for t in server.terminals.values():
            t.client.close()
