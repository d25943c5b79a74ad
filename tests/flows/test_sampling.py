"""The draw procedure: reproducible, verifiable from published data, uniform."""

from __future__ import annotations

import hashlib
from collections import Counter

import pytest
from scipy.stats import chisquare

from flows import sampling

POOL = [sampling.pseudonym(b"k" * 32, "c", i) for i in range(1, 41)]
SEED = "ab" * 32


def _published(pool=POOL, sample=10):
    pools = {"recipients": pool}
    digest = sampling.pool_digest(pools)
    return {"groups": {"recipients": {"sample": sample, "pool": sorted(pool)}}, "pool_digest": digest}, digest


def test_pseudonyms_are_stable_distinct_and_do_not_show_the_id():
    a = sampling.pseudonym(b"s" * 32, "c", 7)
    assert a == sampling.pseudonym(b"s" * 32, "c", 7) and len(a) == 16
    assert a != sampling.pseudonym(b"t" * 32, "c", 7)  # another campaign secret, another pseudonym
    assert len(set(POOL)) == 40 and "7" != a


def test_the_draw_is_reproducible_from_pool_and_seed_and_ignores_pool_order():
    first = sampling.draw(SEED, POOL, 10)
    assert first == sampling.draw(SEED, list(reversed(POOL)), 10)
    assert len(first) == 10 and set(first) <= set(POOL)
    assert first != sampling.draw("cd" * 32, POOL, 10)


def test_a_pool_smaller_than_the_sample_is_taken_whole():
    assert sorted(sampling.draw(SEED, POOL[:3], 10)) == sorted(POOL[:3])


def test_replacement_rounds_continue_the_same_order():
    r1, r2 = sampling.rounds(SEED, POOL, [10, 4])
    assert r1 == sampling.draw(SEED, POOL, 10) and r2 == sampling.order(SEED, POOL)[10:14]


def test_verify_matches_the_honest_draw():
    pool_file, digest = _published()
    commit = sampling.commitment(SEED, digest)
    drawn = {"recipients": [sampling.draw(SEED, POOL, 10)]}
    result = sampling.verify(pool_file, SEED, commit, drawn)
    assert result.ok and result.problems == []


def test_verify_detects_a_changed_seed():
    pool_file, digest = _published()
    commit = sampling.commitment(SEED, digest)
    result = sampling.verify(pool_file, "cd" * 32, commit, {"recipients": [sampling.draw(SEED, POOL, 10)]})
    assert not result.ok and any("commitment" in p for p in result.problems)


def test_verify_detects_a_changed_pool():
    pool_file, digest = _published()
    commit = sampling.commitment(SEED, digest)
    drawn = {"recipients": [sampling.draw(SEED, POOL, 10)]}
    tampered = {"groups": {"recipients": {"sample": 10, "pool": sorted(POOL[1:] + ["ffffffffffffffff"])}}}
    result = sampling.verify(tampered, SEED, commit, drawn)
    assert not result.ok and any("seed or the pool" in p for p in result.problems)


def test_verify_detects_a_drawn_list_that_does_not_follow_the_procedure():
    pool_file, digest = _published()
    commit = sampling.commitment(SEED, digest)
    honest = sampling.draw(SEED, POOL, 10)
    swapped = honest[1:] + [next(p for p in POOL if p not in honest)]
    result = sampling.verify(pool_file, SEED, commit, {"recipients": [swapped]})
    assert not result.ok and "round 1" in result.problems[0] and honest[0] in result.problems[0]


def test_the_commitment_is_sha256_of_seed_and_pool_digest():
    _, digest = _published()
    assert sampling.commitment(SEED, digest) == hashlib.sha256(f"{SEED}\n{digest}".encode()).hexdigest()


def test_selection_is_uniform_over_many_seeds():
    """Each of 40 pool members is drawn (10 of 40) over 4000 deterministic seeds; a
    chi-square test at the 1% level finds no member favoured."""
    counts = Counter()
    runs = 4000
    for i in range(runs):
        seed = hashlib.sha256(f"seed-{i}".encode()).hexdigest()
        counts.update(sampling.draw(seed, POOL, 10))
    observed = [counts[p] for p in POOL]
    assert sum(observed) == runs * 10
    _, p_value = chisquare(observed)
    assert p_value > 0.01, (p_value, observed)
    # and the test has teeth: a draw that favours the alphabetically first is rejected
    biased = Counter()
    for i in range(runs):
        seed = hashlib.sha256(f"seed-{i}".encode()).hexdigest()
        order = sampling.order(seed, POOL)
        biased.update(order[:9] + [min(order[9:])])
    assert chisquare([biased[p] for p in POOL])[1] < 0.01


def test_the_public_draws_result_has_one_canonical_form():
    from flows.sampling import beacon_kind, canonical_beacon

    same = ["03 07 12 19 25 31 + 09", "3,7,12,19,25,31+9", "31 25 19 12 07 03 ＋ 09", "０３、０７、12、19、25、31 | 9",
            " 3  7 12 19 25 31 / 9 "]
    assert {canonical_beacon(v) for v in same} == {"3.7.12.19.25.31./9./"}
    assert all(beacon_kind(v) == "numbers" for v in same)
    assert canonical_beacon("3 + 7 + 2") == "3./7./2./" != canonical_beacon("2 + 7 + 3")  # order kept across groups
    assert canonical_beacon("3 7 12 19 25 31 + 09") != canonical_beacon("3 7 12 19 25 32 + 09")
    assert canonical_beacon("  ABC  def ") == "abc def" and beacon_kind("03 07 + O9") == "text"
    with pytest.raises(ValueError, match="empty"):
        canonical_beacon(" \t")
