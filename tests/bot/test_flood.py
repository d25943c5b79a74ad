"""Per-chat flood control (``bot/telegram/flood.py``), on a hand-driven clock."""

from __future__ import annotations

from bot.telegram.flood import FloodControl


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_person_who_waits_for_answers_is_never_stopped():
    clock = Clock()
    fc = FloodControl(clock=clock)
    for _ in range(2000):  # ten taps a second for 200 s, each finished before the next
        assert fc.admit(1) == "take"
        fc.finished(1)
        clock.now += 0.1
    assert fc.spells == 0 and fc.dropped == 0


def test_a_backlog_starts_a_spell_one_warning_then_silence_until_quiet():
    clock = Clock()
    fc = FloodControl(backlog=20, quiet=10, clock=clock)
    verdicts = [fc.admit(7) for _ in range(3000)]  # a batch that nobody has finished yet
    assert verdicts[:20] == ["take"] * 20 and verdicts[20] == "warn" and set(verdicts[21:]) == {"drop"}
    assert fc.admit(8) == "take"  # another chat is not affected
    for _ in range(20):
        fc.finished(7)
    clock.now += 9.9
    assert fc.admit(7) == "drop"  # still flooding: the spell is extended
    clock.now += 10.0
    assert fc.admit(7) == "take"  # quiet for 10 s: normal again
    assert fc.spells == 1 and fc.dropped == 2981


def test_too_many_a_second_start_a_spell_even_when_each_is_finished():
    clock = Clock()
    fc = FloodControl(rate=200, window=10, clock=clock)
    verdicts = []
    for _ in range(400):  # 100 a second, each finished at once (webhook, one at a time)
        v = fc.admit(3)
        verdicts.append(v)
        if v == "take":
            fc.finished(3)
        clock.now += 0.01
    assert verdicts.count("take") == 200 and verdicts.count("warn") == 1


def test_updates_without_a_chat_are_taken():
    fc = FloodControl(backlog=1)
    assert [fc.admit(None) for _ in range(5)] == ["take"] * 5


def test_after_a_spell_of_too_many_a_second_the_chat_starts_afresh():
    clock = Clock()
    fc = FloodControl(rate=200, window=10, quiet=2, clock=clock)
    for _ in range(3000):
        if fc.admit(3) == "take":
            fc.finished(3)
    clock.now += 2.5  # quiet, well within the 10 s window of the 3,000
    assert fc.admit(3) == "take"
    assert fc.spells == 1
