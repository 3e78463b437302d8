"""Config resolution and validation: presets, YAML, --set, one clear error."""

import pytest
import yaml

from study.files.config import PRESETS, config_yaml, load_config


@pytest.mark.parametrize("preset", PRESETS)
def test_presets_resolve_and_round_trip(preset, tmp_path):
    # The printed config loads back to the same config.
    cfg = load_config(preset)
    path = tmp_path / "c.yaml"
    path.write_text(config_yaml(cfg))
    assert load_config(str(path)) == cfg


def test_yaml_can_start_from_a_preset_and_set_wins(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("preset: smoke\nforward: {fc: 96}\nsearch: {num_samples: 3}\n")
    cfg = load_config(str(path), ["search.num_samples=5", "forward.filters=[8, 8]"])
    assert cfg.trial.forward.fc == 96 and cfg.search.num_samples == 5
    assert cfg.trial.forward.filters == (8, 8)
    assert cfg.trial.data.n_train == load_config("smoke").trial.data.n_train  # the rest: the preset


@pytest.mark.parametrize(
    "overrides, match",
    [
        (
            ["forward.stages=5", "forward.filters=[1,2,3,4,5]"],
            r"forward.stages: must be an integer in \[1, 4\].*5",
        ),
        (["forward.filters=[0, 8]"], r"forward.filters: every entry must be a positive integer"),
        (["forward.dropout=1.0"], r"forward.dropout: must be in \[0, 1\).*1.0"),
        (["forward.epochs=2"], r"forward.epochs: is not a known key"),
        (["data.n_train=many"], r"data.n_train: must be an integer.*'many'"),
        (["data.rho_max=-1"], r"data.rho_max: must be a finite number >= 0"),
        (["space.stages=[1, 6]"], r"space.stages: must lie in \[1, 4\]"),
        (["search.modes=[max]"], r"search.modes: needs one of max/min per objective"),
        (["search.objectives=[accuracy]"], r"search.objectives: must be a non-empty list"),
        (["inverse.mode=magic"], r"inverse.mode: must be one of"),
        (["score.n_generated=100000"], r"score.n_generated: must be <= data.n_test"),
        (["nonsense"], r"--set: must look like key=value"),
        (["data.t0=nan"], r"data.t0: must be a finite non-zero number, but got nan"),
        (["data.onsite=inf"], r"data.onsite: must be a finite number, but got inf"),
        (["data.a=inf"], r"data.a: must be a finite number > 0, but got inf"),
        (["data.size=4096"], r"data.size: must be <= 64"),
        (["data.n_train=20000000"], r"data.n_train: must be <= 1e\+07"),
        (["data.n_train=99999999999999999999999"], r"data.n_train: must be an integer of at most"),
        (["score.attack_strength=inf"], r"score.attack_strength: must be a finite number > 0"),
        (["score.ridge=-1"], r"score.ridge: must be a finite number >= 0"),
        (["score.rdf_bins=0"], r"score.rdf_bins: must be an integer >= 1"),
        (["score.rdf_rmax=-4"], r"score.rdf_rmax: must be a finite number > 0"),
        (["space.dropout=[nan,0.3]"], r"space.dropout: must be \[low, high\] of finite numbers"),
        (["space.lr=[nan,0.001]"], r"space.lr: must be \[low, high\] of finite numbers"),
        (["resources.cpus_per_trial=nan"], r"resources.cpus_per_trial: must be a finite number"),
        (["resources.cpus_per_trial=inf"], r"resources.cpus_per_trial: must be a finite number"),
        (["device=banana"], r"device: must be auto, cpu, cuda or cuda:K, but got 'banana'"),
        (["inverse_net.bonds=true"], r"inverse_net.bonds: must be false"),
    ],
)
def test_bad_values_name_key_rule_and_value(overrides, match):
    with pytest.raises(ValueError, match=match):
        load_config("smoke", overrides)


def test_unreadable_yaml_is_one_error(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("forward: {fc: [1, 2\n")
    with pytest.raises(ValueError, match="config: must be a readable YAML file"):
        load_config(str(path))


def test_missing_file_or_preset(tmp_path):
    with pytest.raises(ValueError, match="must be a preset"):
        load_config(str(tmp_path / "nope.yaml"))


def test_printed_yaml_is_nested_and_plain():
    tree = yaml.safe_load(config_yaml(load_config("paper")))
    assert tree["forward"]["filters"] == [256, 512, 1024] and tree["inverse_net"]["l2"] == 0.05
    assert tree["forward_train"]["batch_size"] == 10 and tree["data"]["n_train"] == 20000
