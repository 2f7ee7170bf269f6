"""A container's memory of recent values (chalicelib/recent.py)."""
import threading
import time

from chalicelib.recent import Recent


def test_a_young_value_is_served_from_memory():
    recent, reads = Recent(60), []
    assert recent.get("card", lambda: reads.append(1) or "v1") == "v1"
    assert recent.get("card", lambda: reads.append(1) or "v2") == "v1"
    assert len(reads) == 1


def test_an_old_value_is_read_again():
    recent = Recent(0.01)
    recent.get("card", lambda: "v1")
    time.sleep(0.02)
    assert recent.get("card", lambda: "v2") == "v2"


def test_when_a_value_expires_only_one_caller_reads_it_again():
    recent, reads, gate = Recent(0.01), [], threading.Event()
    recent.get("card", lambda: "old")
    time.sleep(0.02)

    def slow_read():
        reads.append(1)
        gate.wait(2)
        return "new"

    reader = threading.Thread(target=recent.get, args=("card", slow_read))
    reader.start()
    time.sleep(0.05)
    others = [recent.get("card", slow_read) for _ in range(20)]
    gate.set()
    reader.join()
    assert reads == [1]
    assert others == ["old"] * 20
    assert recent.get("card", slow_read) == "new"


def test_zero_max_age_remembers_nothing():
    recent, reads = Recent(0), []
    recent.get("card", lambda: reads.append(1))
    recent.get("card", lambda: reads.append(1))
    assert len(reads) == 2
