"""ray_cluster.yaml: a valid on-prem cluster of two GPU nodes that installs the project."""

from pathlib import Path

import yaml
from ray.autoscaler._private.util import prepare_config, validate_config

CLUSTER = Path(__file__).parents[2] / "ray_cluster.yaml"


def test_cluster_yaml_passes_ray_schema():
    # The same check `ray up` makes before touching any machine.
    config = prepare_config(yaml.safe_load(CLUSTER.read_text()))
    validate_config(config)
    assert config["provider"]["type"] == "local"


def test_head_and_one_worker_each_declare_one_gpu():
    config = yaml.safe_load(CLUSTER.read_text())
    assert len(config["provider"]["worker_ips"]) == 1 and config["max_workers"] == 1
    head = [c for c in config["head_start_ray_commands"] if "ray start" in c]
    worker = [c for c in config["worker_start_ray_commands"] if "ray start" in c]
    assert len(head) == 1 and "--head" in head[0] and "--num-gpus=1" in head[0]
    assert (
        len(worker) == 1
        and "--address=$RAY_HEAD_IP:6379" in worker[0]
        and "--num-gpus=1" in worker[0]
    )


def test_setup_installs_the_project_with_the_pinned_torch():
    setup = " && ".join(yaml.safe_load(CLUSTER.read_text())["setup_commands"])
    assert "pip install -q -e ." in setup and "torch==2.13.0" in setup
