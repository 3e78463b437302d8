"""Opening a trial's run: found again by its trial id when Tune restarts or resumes the trial,
else created under the study's parent run (a confirmation under the trial it confirms), named
after its architecture, tagged with what it is and where it runs."""

from __future__ import annotations

import dataclasses

from study.files.links import architecture_tags, trial_name
from study.files.tracking import CONFIRMS_TAG
from study.read.ablation import ABLATES_TAG, ABLATION_TAG, LEVEL_TAG
from study.run.trainable import DEVICE_KEY, NODE_KEY, configuration

__all__ = ["OpeningRuns", "Run"]


@dataclasses.dataclass
class Run:
    """What the recorder knows of one trial's run while the trial is live."""

    run_id: str
    name: str  # the run's name (what Optuna links to)
    logged: dict[str, int]  # seed prefix → highest per-epoch step in the run (read when first met)
    finished: bool  # FINISHED in MLflow: nothing more is written
    has_final: bool  # its final metrics are in
    placed: bool = False  # node tags set since the last (re)start
    host: str = ""  # where it last ran, for failure lines


class OpeningRuns:
    """The :class:`study.run.recording.TrialRecorder` hooks and helpers that open runs."""

    def _config(self, trial):
        from study.run.search import apply_params
        from trainables.config import from_flat

        return from_flat(apply_params(self.base_flat, configuration(trial.config)))

    def on_trial_start(self, iteration, trials, trial, **info) -> None:
        from trainables.config import to_flat

        cfg = self._config(trial)
        tags = {
            "mlflow.source.git.commit": self.info.git_commit,
            "scalefree.git_commit": self.info.git_commit[:12],
            **architecture_tags(cfg),
        }
        fixed = configuration(trial.config)
        if fixed.get("confirms"):  # a confirmation round's run (study.run.rounds)
            tags[CONFIRMS_TAG] = fixed["confirms"]
        if fixed.get("ablation"):  # an ablation's level (study.read.ablation)
            tags |= {
                ABLATION_TAG: fixed["ablation"],
                LEVEL_TAG: fixed["level"],
                ABLATES_TAG: fixed["ablates"],
            }
        name = self._name(trial, cfg)
        parent = self.info.parent_run_id
        if fixed.get("confirms"):  # under the trial it confirms: the UI shows them together
            confirmed = self.tracker.trial_run_id(
                self.info.experiment_id, self.info.name, fixed["confirms"]
            )
            parent = confirmed or parent
        run_id, finished = self.tracker.trial_run(
            self.info.experiment_id,
            parent,
            self.info.name,
            trial.trial_id,
            tags,
            run_name=name,
        )
        metrics = {} if finished else self.tracker.metrics(run_id)
        self._runs[trial.trial_id] = Run(
            run_id,
            name,
            logged={},
            finished=finished,
            has_final=finished or "validated_accuracy" in metrics,
        )
        if not finished:
            searched = {f"search.{k}": v for k, v in configuration(trial.config).items()}
            self.tracker.log_params(run_id, {**to_flat(cfg), **searched})

    def on_trial_recover(self, iteration, trials, trial, **info) -> None:
        from study.console import say
        from study.run.recording.errors import failure, trial_error

        run = self._runs.get(trial.trial_id)
        if run is not None:
            kind, _ = failure(trial_error(trial))
            if kind == "infrastructure" and run.host:  # its node went, not its computation
                say(
                    f"[study] {trial.trial_id} lost {run.host}: it goes on from its last checkpoint"
                )
            run.placed = False  # it restarts, maybe elsewhere

    @staticmethod
    def _name(trial, cfg) -> str:
        fixed = configuration(trial.config)
        name = trial_name(cfg, trial.trial_id)
        if fixed.get("ablation"):
            return f"{fixed['ablation']}-{fixed['level']}-{name}"
        confirms = fixed.get("confirms")
        return f"confirm-{confirms}-{name}" if confirms else name

    def _run(self, trial) -> Run:
        run = self._runs.get(trial.trial_id)
        if run is None:  # a result before any start hook (not seen; kept safe)
            self.on_trial_start(0, [], trial)
            run = self._runs[trial.trial_id]
        return run

    def _place(self, run: Run, result: dict) -> None:
        if run.placed:
            return
        ip, host = result.get("node_ip", ""), result.get("hostname", "")
        tags = {"ray.node_id": result.get(NODE_KEY, ""), "ray.node_ip": ip, "scalefree.host": host}
        if result.get(DEVICE_KEY):
            tags["scalefree.device"] = result[DEVICE_KEY]
        self.tracker.set_tags(run.run_id, tags)
        run.placed, run.host = True, f"node {ip} ({host})" if ip else host
