"""The end of a study's run: close what a killed or interrupted driver left open so that MLflow and
Optuna agree, count what ended, make the report, and say in one line when trials failed for a
reason outside their configuration."""

from __future__ import annotations

from study.console import checkpoint
from study.files.directory import StudyInfo
from study.files.errors import StudyFailed
from study.run import faults
from study.run.experiments import statuses

__all__ = ["finish"]


def finish(info: StudyInfo, tracker) -> None:
    """Close what a killed driver left open, count what ended, report, end the parent run."""
    from study.read.report import report

    every = statuses(info.dir)
    _reconcile(info, tracker, every)
    errors = sum(status == "ERROR" for status in every.values())
    search = statuses(info.dir, confirmations=False)
    search_errors = sum(status == "ERROR" for status in search.values())
    line = f"[study] {len(search)} trials, {search_errors} failed"
    rounds = {t: s for t, s in every.items() if t not in search}
    # The parent run's counts, as the summary line says them: search trials apart from the
    # confirmation and ablation runs nested under them.
    counts = {"trials": len(search), "trials_failed": search_errors}
    if rounds:
        failed = sum(status == "ERROR" for status in rounds.values())
        line += f"; {len(rounds)} confirmation and ablation runs, {failed} failed"
        counts.update(round_runs=len(rounds), round_runs_failed=failed)
    print(line, flush=True)
    tracker.log_metrics(info.parent_run_id, counts)
    if every and errors == len(every):
        report(str(info.dir))
        raise StudyFailed(
            f"study: must finish at least one trial, but all {errors} failed (see the "
            f"failure_reason tags of the runs under MLflow run {info.parent_run_id})."
        )
    faults.point("report")
    checkpoint()
    _check_room(info, tracker)  # a report on a full disk would fail half-way
    report(str(info.dir))
    _check_infrastructure(info, tracker)
    checkpoint()  # one that came during the report: the study is not marked finished
    _clear_exits(info, tracker)
    tracker.finish(info.parent_run_id)


def _clear_exits(info: StudyInfo, tracker) -> None:
    """A study that finished carries no stale reason of an earlier driver's stop (the parent's,
    and its runs' that the resume finished)."""
    from study.files.tracking import EXIT_TAG

    tracker.drop_tag(info.parent_run_id, EXIT_TAG)
    for run in tracker.child_runs(info.experiment_id, info.parent_run_id):
        if run.info.status == "FINISHED" and EXIT_TAG in run.data.tags:
            tracker.client.delete_tag(run.info.run_id, EXIT_TAG)  # its tags are read already


def _check_infrastructure(info: StudyInfo, tracker) -> None:
    """Trials that failed for a reason outside their configuration (a host that cannot reach the
    storage, a lost node) are no result: the study says so in one line and fails, and `resume`
    retries them once the cluster is mended."""
    from study.files.tracking import FAILURE_KIND_TAG

    failed = [
        run
        for run in tracker.child_runs(info.experiment_id, info.parent_run_id)
        if run.info.status == "FAILED" and run.data.tags.get(FAILURE_KIND_TAG) == "infrastructure"
    ]
    if failed:
        reason = failed[0].data.tags.get("failure_reason", "no reason recorded")
        raise StudyFailed(
            f"study: trials must not fail for reasons outside their configuration, but "
            f"{len(failed)} did ({reason[:200]}); mend the cluster, then "
            f"`scalefree resume {info.name}`."
        )


def _reconcile(info: StudyInfo, tracker, statuses: dict[str, str]) -> None:
    """Close what a killed or interrupted driver left open, so MLflow and Optuna agree.

    * a trial lost with the driver (started after Tune's last snapshot) has a half-done MLflow run,
      which is deleted (its replacement runs in a later experiment), and an Optuna trial still
      RUNNING, marked FAIL;
    * runs of trials Tune ended while their thread could not notice (an ASHA stop of a reused
      actor) are closed as Tune ended them;
    * a trial whose run FINISHED but whose Optuna record is not COMPLETE (Ctrl-C between the two)
      gets a COMPLETE Optuna trial with its parameters and objective values.
    """
    import optuna

    from study.files.tracking import TRIAL_TAG
    from study.run.optuna_search import complete_from_run

    finished = {}
    for run in tracker.child_runs(info.experiment_id, info.parent_run_id):
        trial_id = run.data.tags.get(TRIAL_TAG)
        status = statuses.get(trial_id)
        if status is None:
            tracker.discard(run.info.run_id, "trial lost with the driver; rerun")
            print(f"[study] removed the run of lost trial {trial_id}", flush=True)
            continue
        if run.info.status == "RUNNING":
            if status == "TERMINATED":
                tracker.set_tags(run.info.run_id, {"stopped_early": "true"})
            tracker.finish(run.info.run_id, "FAILED" if status == "ERROR" else "KILLED")
        elif run.info.status == "FINISHED":
            finished[trial_id] = run
    storage = f"sqlite:///{info.dir / 'optuna.db'}"
    study = optuna.load_study(study_name=info.name, storage=storage)
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        study.tell(trial.number, state=optuna.trial.TrialState.FAIL)
    complete_from_run(study, finished)


def _check_room(info: StudyInfo, tracker) -> None:
    """Trials that failed because the studies folder was full: stop with its one line."""
    from study.files.errors import DiskFull, disk_full, disk_full_line

    for run in tracker.child_runs(info.experiment_id, info.parent_run_id):
        if run.info.status == "FAILED" and disk_full(run.data.tags.get("failure_reason", "")):
            raise DiskFull(disk_full_line(info.dir, info.name))
