"""Dataset generation on Ray: identical bytes however many workers made it; the dataset's
baselines cached beside it."""

import dataclasses
import json

import pytest

from physics import dataset
from physics.dataset import DatasetSpec
from study.run.data import generate_with_ray

SPEC = DatasetSpec(size=6, n_train=96, n_val=32, n_test=32, shard_size=16, seed=9)


def _checksums(directory):
    return {p.name: p.read_text() for p in sorted(directory.glob("*.sha256"))}


def test_one_and_four_workers_give_byte_identical_datasets(ray_session, tmp_path):
    # Shard seeds depend on (split, shard) only, so scheduling cannot change a byte.
    one = generate_with_ray(SPEC, tmp_path / "one", max_in_flight=1)
    four = generate_with_ray(SPEC, tmp_path / "four", max_in_flight=4)
    assert _checksums(one) == _checksums(four) and len(_checksums(one)) == len(
        dataset.shard_plan(SPEC)
    )
    local = dataset.generate(SPEC, tmp_path / "local", progress=lambda line: None)
    assert _checksums(local) == _checksums(one)


def test_dataset_baselines_are_cached_and_a_damaged_cache_is_recomputed(ray_session, tmp_path):
    # Rule: the cached baselines are the freshly computed ones; an edited or damaged cache file
    # fails its checksum and is computed again, never read.
    from physics.dataset import write_checked
    from study.files.config import load_config
    from study.run.data import baselines_file, load_baselines, load_splits
    from trainables.baseline import DATASET_BASELINES, dataset_baselines

    trial = load_config("smoke", ["data.size=6", "data.n_train=96", "data.n_val=32"]).trial
    trial = dataclasses.replace(
        trial, data=SPEC, score=dataclasses.replace(trial.score, n_generated=16)
    )
    generate_with_ray(SPEC, tmp_path)
    splits = load_splits(SPEC, tmp_path)
    fresh = dataset_baselines(trial, splits)
    assert set(fresh) == set(DATASET_BASELINES)
    assert all(0 < v < 1 for v in fresh.values())
    first = load_baselines(trial, tmp_path, splits)
    path = baselines_file(trial, tmp_path)
    assert path.is_file() and first == pytest.approx(fresh, rel=1e-12)
    # An intact cache is what is read (a consistent edit, checksum included, shows it).
    write_checked(path, json.dumps(first | {"oracle_accuracy": 0.5}).encode())
    assert load_baselines(trial, tmp_path, splits)["oracle_accuracy"] == 0.5
    path.write_text(path.read_text().replace("0.", "0.5", 1))  # damaged: checksum no longer holds
    assert load_baselines(trial, tmp_path, splits) == pytest.approx(fresh, rel=1e-12)
    other = dataclasses.replace(trial, score=dataclasses.replace(trial.score, n_generated=8))
    assert baselines_file(other, tmp_path) != path  # other targets, another cache entry
