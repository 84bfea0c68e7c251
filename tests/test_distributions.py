"""Histograms of fixation counts and durations: the released numbers, learning, drawing, errors."""

import json

import numpy as np
import pytest

from data_prep import distributions
from data_prep.errors import InputError


def test_published_histograms_match_the_shared_reference():
    stats = distributions.published_stats()
    assert stats.counts.probabilities.size == 60 and stats.counts.edges[0] == 1.0
    assert stats.durations.probabilities.size == 40
    assert stats.durations.edges[0] == pytest.approx(0.107)
    assert stats.counts.probabilities.sum() == pytest.approx(1.0)


def test_draws_use_left_bin_edges_with_the_bin_probabilities():
    hist = distributions.Histogram(np.array([0.25, 0.75]), np.array([2.0, 3.5, 5.0]))
    draws = hist.draw(np.random.default_rng(1), 20000)
    assert set(np.unique(draws)) == {2.0, 3.5}
    assert np.mean(draws == 3.5) == pytest.approx(0.75, abs=0.015)


def test_counts_truncate_to_integers_at_least_one():
    stats = distributions.ScanpathStats(
        distributions.Histogram(np.array([1.0]), np.array([0.4, 3.0])),
        distributions.Histogram(np.array([1.0]), np.array([0.2, 0.3])))
    counts = stats.draw_counts(np.random.default_rng(0), 10)
    assert counts.dtype == np.int64 and np.all(counts == 1)


def test_learn_save_load_round_trip(tmp_path):
    rng = np.random.default_rng(3)
    stats = distributions.learn_stats(rng.integers(5, 30, 500), rng.gamma(2, 0.2, 4000), source="x")
    path = distributions.save_stats(stats, tmp_path / "stats.json")
    again = distributions.load_stats(path)
    np.testing.assert_allclose(again.counts.probabilities, stats.counts.probabilities)
    np.testing.assert_allclose(again.durations.edges, stats.durations.edges)
    with pytest.raises(InputError, match="already exists"):
        distributions.save_stats(stats, path)
    a = again.draw_durations(np.random.default_rng(5), 100)
    b = again.draw_durations(np.random.default_rng(5), 100)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("content, message", [
    ("not json", "not a readable JSON"),
    (json.dumps({"fixations_per_scanpath": {}}), "needs"),
    (json.dumps({"fixations_per_scanpath": {"probabilities": [1], "bin_edges": [1]},
                 "fixation_duration_seconds": {"probabilities": [1], "bin_edges": [0, 1]}}), "k\\+1"),
])
def test_bad_stats_files(tmp_path, content, message):
    path = tmp_path / "s.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        distributions.load_stats(path)
    with pytest.raises(InputError, match="not found"):
        distributions.load_stats(tmp_path / "missing.json")
