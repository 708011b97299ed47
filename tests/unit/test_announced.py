"""The commits a process announces to its tailer (``sync.announced``): taken
in row order, split where a tailer's batch ends, dropped once read back, and
bounded."""

from hypertool_exporter.model.events import TokensUsed
from hypertool_exporter.sync.announced import Announced


def events(count: int, start: int = 0) -> list[TokensUsed]:
    return [TokensUsed("qa", "m", n, 0, "default", 1000.0 + n) for n in range(start, start + count)]


def test_whole_commits_next_in_line_are_taken_in_row_order_up_to_a_gap():
    announced = Announced()
    first, second, later = events(3), events(2, 3), events(4, 10)
    announced.add(1, first, applied_id=0)
    announced.add(4, second, applied_id=0)
    announced.add(11, later, applied_id=0)  # rows 6-10 are another process's
    assert len(announced) == 9
    assert announced.run_after(0, most=100) == first + second
    assert announced.run_after(5, most=100) == []  # row 6 is not this process's
    assert announced.run_after(10, most=100) == later
    assert len(announced) == 0 and not announced


def test_a_commit_longer_than_a_batch_is_taken_in_pieces_at_the_right_rows():
    announced = Announced()
    commit = events(5)
    announced.add(1, commit, applied_id=0)
    assert announced.take(1, most=2) == commit[:2]
    assert announced.take(2, most=2) is None  # the rest starts at row 3
    assert announced.take(3, most=2) == commit[2:4]
    assert announced.run_after(4, most=2) == commit[4:]


def test_rows_read_back_before_their_announcement_are_not_kept():
    announced = Announced()
    announced.add(1, events(2), applied_id=0)
    commit = events(4, 2)
    # The tailer read rows 3 and 4 back (and the commit at row 1 before them).
    announced.add(3, commit, applied_id=4)
    assert len(announced) == 2
    assert announced.run_after(4, most=100) == commit[2:]


def test_past_its_limit_a_commit_is_not_kept_and_is_read_back_instead():
    announced = Announced(limit=5)
    announced.add(1, events(4), applied_id=0)
    announced.add(5, events(2, 4), applied_id=0)  # would hold 6
    assert len(announced) == 4
    assert announced.run_after(0, most=100) == events(4)
    assert announced.run_after(4, most=100) == []


def test_the_rest_of_a_split_commit_stays_the_oldest_and_is_dropped_once_read_back():
    announced = Announced()
    announced.add(1, events(5), applied_id=0)
    later = events(2, 5)
    announced.add(6, later, applied_id=0)
    assert announced.take(1, most=2) == events(2)  # rows 3-5 wait, before row 6's commit
    # The tailer read rows 3-5 back: their events go, row 6's commit stays.
    newest = events(1, 7)
    announced.add(8, newest, applied_id=5)
    assert len(announced) == 3
    assert announced.run_after(5, most=100) == later + newest
