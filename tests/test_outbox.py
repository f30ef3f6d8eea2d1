"""The station outbox on real SQLite files: seqs that survive reopening, one transaction per save,
local refusal of what the console would refuse, state transitions and the instruction inbox."""
from __future__ import annotations

import sqlite3
import threading

import pytest

from protocols.codec import ProtocolError
from stations.outbox.store import DELIVERED, REJECTED, SAVED, SENT, Outbox, OutboxError


@pytest.fixture
def path(tmp_path):
    return tmp_path / "stations" / "gate-1.outbox.db"


def test_new_outbox_has_an_epoch_and_starts_at_one(path):
    with Outbox(path, "gate-1") as box:
        assert len(box.epoch) == 16 and int(box.epoch, 16) >= 0
        assert box.station == "gate-1"
        assert box.next_seq == 1
        assert box.depth() == 0
        assert box.save("car_in", {"plate": "A1"}).seq == 1
    with Outbox(path.with_name("other.db"), "gate-1") as other:
        assert other.epoch != box.epoch  # a reinstall never collides with old numbers


def test_epoch_seq_and_unacked_survive_reopen(path):
    box = Outbox(path, "gate-1")
    epoch = box.epoch
    for i in range(5):
        box.save("guest_arrival", {"count": i + 1})
    box.mark_delivered(1, 11)
    box.mark_sent(2)
    box.mark_rejected(3, "E_FORBIDDEN", "no", "不行")
    box.close()  # as good as a kill: every save was its own committed transaction

    box = Outbox(path, "gate-1")
    assert box.epoch == epoch
    assert box.next_seq == 6
    assert [r.seq for r in box.unacked()] == [2, 4, 5]
    assert [r.state for r in box.unacked()] == [SENT, SAVED, SAVED]
    assert box.save("guest_arrival", {}).seq == 6
    box.close()


def test_reopening_as_another_station_is_refused(path):
    Outbox(path, "gate-1").close()
    with pytest.raises(OutboxError, match="gate-1"):
        Outbox(path, "gate-2")


def test_save_returns_full_body_and_stores_it(path):
    with Outbox(path, "gate-1") as box:
        report = box.save("car_in", {"plate": "湘A12345"})
        assert report.state == SAVED and report.gseq is None
        assert report.body == {"plate": "湘A12345", "vip": False, "count": 1, "release": False}
        assert box.get(1) == report
        assert box.get(2) is None


def test_one_transaction_per_save(path):
    with Outbox(path, "gate-1") as box:
        statements: list[str] = []
        box.conn.set_trace_callback(statements.append)
        box.save("car_in", {"plate": "A1"})
        box.conn.set_trace_callback(None)
        verbs = [s.split()[0].upper() for s in statements]
        assert verbs.count("BEGIN") == 1 and verbs.count("COMMIT") == 1
        assert verbs[0] == "BEGIN" and verbs[-1] == "COMMIT"


def test_a_failed_save_takes_no_seq(path):
    with Outbox(path, "gate-1") as box:
        box.save("car_in", {"plate": "A1"})
        # Occupy seq 2 behind the outbox's back: the insert fails after next_seq was bumped,
        # and the whole transaction must roll back.
        box.conn.execute("INSERT INTO reports (seq, type, body, created_ms, state, updated_ms)"
                         " VALUES (2, 'car_in', '{}', 0, 'saved', 0)")
        with pytest.raises(OutboxError, match="not saved"):
            box.save("car_in", {"plate": "A2"})
        assert box.next_seq == 2


def test_bad_body_is_refused_before_saving(path):
    with Outbox(path, "gate-1") as box:
        box.save("car_in", {"plate": "A1"})
        with pytest.raises(ProtocolError) as info:
            box.save("guest_arrival", {"count": -3})
        assert info.value.code == "E_SCHEMA"
        assert "-3" in info.value.en and info.value.zh
        with pytest.raises(ProtocolError) as info:
            box.save("car_in", {"plate": "A1", "colour": "red"})
        assert info.value.code == "E_SCHEMA"
        with pytest.raises(ProtocolError) as info:
            box.save("teleport", {})
        assert info.value.code == "E_TYPE"
        with pytest.raises(ProtocolError) as info:
            box.save("heartbeat", {})  # control messages are never reports
        assert info.value.code == "E_TYPE"
        assert box.next_seq == 2 and box.depth() == 1
        assert box.conn.execute("SELECT COUNT(*) FROM reports").fetchone()[0] == 1


def test_oversized_report_is_refused_locally(path):
    with Outbox(path, "gate-1", max_bytes=600) as box:
        with pytest.raises(ProtocolError) as info:
            box.save("incident_report", {"kind": "fire", "note": "x" * 490})
        assert info.value.code == "E_SIZE"
        assert box.next_seq == 1 and box.depth() == 0
        assert box.save("incident_report", {"kind": "fire", "note": "x" * 100}).seq == 1


def test_state_transitions(path):
    with Outbox(path, "gate-1") as box:
        for _ in range(4):
            box.save("car_out", {})
        assert [r.seq for r in box.mark_sent_many([1, 2, 3])] == [1, 2, 3]
        assert box.mark_sent(1) is None  # already sent: nothing changes
        delivered = box.mark_delivered(1, 41)
        assert delivered.state == DELIVERED and delivered.gseq == 41
        assert box.mark_delivered(1, 99) is None  # a late duplicate ack changes nothing
        assert box.get(1).gseq == 41
        assert box.mark_sent(1) is None  # never back from delivered
        rejected = box.mark_rejected(2, "E_FORBIDDEN", "The gate post may not send this.", "门岗不能上报。")
        assert (rejected.state, rejected.code, rejected.reason_zh) == (REJECTED, "E_FORBIDDEN", "门岗不能上报。")
        assert box.mark_delivered(2, 42) is None  # rejected is final
        # saved straight to delivered (the ack overtook our own bookkeeping)
        assert box.mark_delivered(4, 43).state == DELIVERED
        assert box.counts() == {SAVED: 0, SENT: 1, DELIVERED: 2, REJECTED: 1}
        assert box.depth() == 1
        assert box.first_unacked() == 3
        assert [r.seq for r in box.recent(2)] == [4, 3]


def test_delivered_many_is_one_transaction(path):
    with Outbox(path, "gate-1") as box:
        for _ in range(50):
            box.save("car_in", {})
        statements: list[str] = []
        box.conn.set_trace_callback(statements.append)
        changed = box.mark_delivered_many([(s, 100 + s) for s in range(1, 51)])
        box.conn.set_trace_callback(None)
        assert len(changed) == 50
        assert [s.split()[0].upper() for s in statements].count("COMMIT") == 1
        assert box.depth() == 0


def test_unacked_in_seq_order_with_window(path):
    with Outbox(path, "gate-1") as box:
        for _ in range(10):
            box.save("car_in", {})
        box.mark_delivered_many([(2, 1), (5, 2)])
        box.mark_rejected(7, "E_SCHEMA", "bad")
        assert [r.seq for r in box.unacked()] == [1, 3, 4, 6, 8, 9, 10]
        assert [r.seq for r in box.unacked(after=3, limit=3)] == [4, 6, 8]
        assert [r.seq for r in box.between(4, 7)] == [4, 5, 6, 7]


def test_threads_never_share_a_seq(path):
    with Outbox(path, "gate-1") as box:
        def work():
            for _ in range(25):
                box.save("car_in", {})
        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert [r.seq for r in box.unacked()] == list(range(1, 101))
        assert box.next_seq == 101


def test_two_processes_worth_of_connections_never_share_a_seq(path):
    a, b = Outbox(path, "gate-1"), Outbox(path, "gate-1")
    assert a.epoch == b.epoch
    seqs = [a.save("car_in", {}).seq, b.save("car_in", {}).seq, a.save("car_in", {}).seq]
    assert seqs == [1, 2, 3]
    a.close()
    b.close()


def test_wal_and_full_sync(path):
    with Outbox(path, "gate-1") as box:
        assert box.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert box.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        names = [r[0] for r in box.conn.execute("SELECT name FROM _sqlite_migrations")]
        assert names == ["m001_outbox", "m002_inbox_plan_fields", "m003_guests", "m004_inbox_gate"]
    # plain sqlite3 can read it: the outbox is not a black box on the day
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT station FROM outbox_meta").fetchone()[0] == "gate-1"
    conn.close()


def test_inbox_upsert_keeps_one_row_and_the_ack(path):
    with Outbox(path, "gate-1") as box:
        item, new = box.store_instruction(17, "all", "Open gate B", True, received_ms=1000)
        assert new and item.acked_ms is None and item.ack_required
        again, new = box.store_instruction(17, "all", "Open gate B", True, received_ms=5000)
        assert not new and again.received_ms == 1000
        box.store_instruction(18, "post.gate", "FYI", False)
        assert [i.id for i in box.pending_instructions()] == [17]
        acked = box.mark_instruction_acked(17)
        assert acked.acked_ms is not None
        replayed, new = box.store_instruction(17, "all", "Open gate B", True)
        assert not new and replayed.acked_ms == acked.acked_ms  # a replay never un-acks
        assert box.pending_instructions() == []
        assert [i.id for i in box.instructions()] == [18, 17]
        assert box.conn.execute("SELECT COUNT(*) FROM inbox").fetchone()[0] == 2
        assert box.mark_instruction_acked(99) is None


def test_inbox_keeps_plan_fields_and_english_text(path):
    with Outbox(path, "gate-1") as box:
        item, _ = box.store_instruction(30, "post.gate", "疏散", True, text_en="Evacuate", plan="fire", run=29,
                                        step="evacuate")
        assert (item.plan, item.run, item.step) == ("fire", 29, "evacuate")
        assert item.text_for("en") == "Evacuate" and item.text_for("zh") == "疏散"
        plain, _ = box.store_instruction(31, "all", "茶歇", False)
        assert plain.text_for("en") == "茶歇"  # no English given: the desk's own words
