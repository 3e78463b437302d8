"""Dataset generation on Ray: identical bytes however many workers made it."""

from physics import dataset
from physics.dataset import DatasetSpec
from study.data import generate_with_ray

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
