"""Sharded datasets: seeds, cache integrity, determinism."""

import numpy as np
import pytest

from physics import dataset
from physics.dataset import DatasetSpec

SPEC = DatasetSpec(size=4, n_train=40, n_val=20, n_test=20, shard_size=16, seed=3)


def test_splits_and_shards_never_share_a_seed():
    # Every shard of every split draws from its own SeedSequence.
    keys = {(t.seed(SPEC).entropy, t.seed(SPEC).spawn_key) for t in dataset.shard_plan(SPEC)}
    assert len(keys) == len(dataset.shard_plan(SPEC))


def test_shard_plan_covers_each_split_exactly():
    plan = dataset.shard_plan(SPEC)
    for split in dataset.SPLITS:
        assert sum(t.count for t in plan if t.split == split) == SPEC.count(split)


def test_generated_splits_are_distinct_and_solved(tmp_path):
    # No structure appears in two splits; stored mode areas are those of the stored structures.
    dataset.generate(SPEC, tmp_path, progress=lambda line: None)
    train, test = dataset.load(SPEC, tmp_path, "train"), dataset.load(SPEC, tmp_path, "test")
    assert train[0].shape == (40, 2, 4, 4) and train[1].shape == (40, 16)
    assert not np.isin(test[0][:, 0, 0, 0], train[0][:, 0, 0, 0]).any()
    from physics import mode_areas

    np.testing.assert_array_equal(mode_areas(test[0][:5]), test[1][:5])


def test_corrupted_shard_is_detected_and_regenerated(tmp_path):
    # A flipped byte fails the checksum: load refuses it, generate rebuilds the same bytes.
    directory = dataset.generate(SPEC, tmp_path, progress=lambda line: None)
    shard = directory / "val-00001.npz"
    good = shard.read_bytes()
    broken = bytearray(good)
    broken[len(broken) // 2] ^= 0xFF
    shard.write_bytes(bytes(broken))
    with pytest.raises(FileNotFoundError, match="val-00001"):
        dataset.load(SPEC, tmp_path, "val")
    lines = []
    dataset.generate(SPEC, tmp_path, progress=lines.append)
    assert len(lines) == 1 and "val-00001" in lines[0]
    assert shard.read_bytes() == good


def test_half_written_shard_without_checksum_is_regenerated(tmp_path):
    # A shard whose sidecar never got written (crash between the two writes) is not trusted.
    directory = dataset.generate(SPEC, tmp_path, progress=lambda line: None)
    (directory / "train-00000.sha256").unlink()
    lines = []
    dataset.generate(SPEC, tmp_path, progress=lines.append)
    assert [line.rsplit(" ", 1)[-1] for line in lines] == ["train-00000"]


def test_spec_change_gets_a_new_cache_entry():
    assert SPEC.key() != DatasetSpec(**{**SPEC.__dict__, "rho_max": 0.5}).key()


@pytest.mark.parametrize(
    "field, value", [("n_train", 0), ("shard_size", -1), ("size", 1), ("seed", -2)]
)
def test_bad_spec_names_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        DatasetSpec(**{field: value})
