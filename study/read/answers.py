"""The study's answers on its parent run, where the MLflow UI shows them.

A user who opens a study in the UI finds on its parent run what the report says: the report as a
person reads it (``report/report.md``), the trials as an MLflow table (``report/trials.json``,
which ``MlflowClient().load_table(experiment_id, "report/trials.json", run_ids=[…])`` joins across
studies), every level difference and slope with its interval as metrics (``effect/<objective>/<param>/<a>-<b>`` with
``_lo`` and ``_hi``), the confirmed means and intervals (``confirmed/<trial>/<metric>``), the front
and the best values, and a description whose Markdown survives rendering. The study's runs-table
view (its columns and filter) is stored beside the experiment, so the link ``scalefree ui`` prints
opens it (:func:`study.files.tracking.ui_links`).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["publish", "log_front", "log_effects", "effect_metric", "description"]

CONFIRMED_SHOWN = ("validated_skill", "alpha", "alpha_hill", "tail_xi")  # beside the objectives


def effect_metric(effect) -> str:
    """``effect/alpha/stages/2-1`` for a level difference, ``effect/alpha/l2/slope_per_decade``
    for a slope."""
    from study.read.effects import PER_DECADE, PER_UNIT

    if effect.level_a in (PER_DECADE, PER_UNIT):
        what = str(effect.level_a).replace(" ", "_")
    else:
        what = f"{effect.level_a}-{effect.level_b}"
    return f"effect/{effect.objective}/{effect.param}/{what}"


def log_front(tracker, info, rows: list[dict], done, front, objectives, modes):
    """Tag every finished trial ``scalefree.pareto`` true/false; the parent run gets the front,
    the study's best value of each objective and the collapsed count."""
    from study.files.tracking import PARETO_TAG

    on_front = {d["run_id"] for d, f in zip(done, front, strict=True) if f}
    for r in rows:
        if r["status"] == "FINISHED":
            tracker.set_tags(r["run_id"], {PARETO_TAG: str(r["run_id"] in on_front).lower()})
    parent = info.parent_run_id
    names = [d["name"] for d, f in zip(done, front, strict=True) if f]
    tracker.set_tags(parent, {"scalefree.pareto_trials": ", ".join(names)})
    collapsed = sum(1 for r in rows if r["status"] == "FINISHED" and r.get("collapsed", 0) >= 1)
    summary = {"pareto_size": len(names), "trials_collapsed": collapsed}
    for objective, mode in zip(objectives, modes, strict=True):
        values = [d[objective] for d in done]
        if values:
            summary[f"best_{objective}"] = max(values) if mode == "max" else min(values)
    tracker.log_metrics(parent, summary)


def log_effects(tracker, parent: str, effects, ranked: dict, n_trials: int) -> None:
    """Importances as parent-run metrics (``importance/<objective>/<param>``), every level
    difference and slope with its interval (:func:`effect_metric`, ``_lo``, ``_hi``), the count of
    resolved ones, and each resolved one as a tag line."""
    values = {"importance_trials": n_trials}
    for objective, params in ranked.items():
        values |= {f"importance/{objective}/{p}": v for p, v in params.items()}
    values["effects_resolved"] = sum(e.verdict == "resolved" for e in effects)
    values["effects_within_noise"] = sum(e.verdict == "within noise" for e in effects)
    for e in effects:  # every difference and slope with its interval, as the README promises
        name = effect_metric(e)
        values |= {name: e.difference, f"{name}_lo": e.low, f"{name}_hi": e.high}
    tracker.log_metrics(parent, values)
    lines = [e.line() for e in effects if e.verdict == "resolved"]
    tracker.set_tags(parent, {"scalefree.effects_resolved": "\n".join(lines) or "none"})


def description(name: str, cfg, report_text: str = "") -> str:
    """The parent run's Markdown description: what the study is, how its runs are named (in code
    spans: a bare ``<…>`` would be taken for HTML and vanish), and the report's text."""
    space = ", ".join(f"{k}={list(v)}" for k, v in _flat(cfg).items() if k.startswith("space."))
    objectives = ", ".join(
        f"{m}imise `{o}`" for o, m in zip(cfg.search.objectives, cfg.search.modes, strict=True)
    )
    note = (
        f"**Study {name}**: {cfg.search.num_samples} trials; objectives: {objectives}.\n\n"
        f"Search space: `{space}`.\n\nTrials are the nested runs, each named "
        "`p{pooling stages}-{filters}-fc{width}-{inverse mode}[-bonds]-{Tune id}`; a "
        "confirmation run sits under the trial it confirms.\n"
    )
    if report_text:
        note += f"\n**Report** (also `report/report.md`):\n\n```text\n{report_text.rstrip()}\n```\n"
    return note


def _flat(cfg) -> dict:
    from study.files.config import study_flat_redacted

    return study_flat_redacted(cfg)


def publish(tracker, info, cfg, report_text: str, table: list[dict], done: list[dict], out: Path):
    """The report text, the trials table, the confirmed numbers, the description and the
    runs-table view, onto the parent run and its experiment."""
    from study.files.links import runs_view, view_key

    parent = info.parent_run_id
    (out / "report.md").write_text(
        f"# Study {info.name}\n\nAs `scalefree report {info.name}` printed it; every column in "
        f"`trials.csv`, every effect in `effects.csv`.\n\n```text\n{report_text.rstrip()}\n```\n"
    )
    tracker.log_table(parent, table, out, "report/trials.json")
    confirmed = {}
    shown = list(dict.fromkeys([*cfg.search.objectives, *CONFIRMED_SHOWN]))
    for row in done:
        for metric in shown:
            key = f"confirmed_{metric}"
            if key in row:
                name = f"confirmed/{row['trial']}/{metric}"
                confirmed |= {name: row[key], f"{name}_lo": row.get(f"{key}_lo")}
                confirmed[f"{name}_hi"] = row.get(f"{key}_hi")
    tracker.log_metrics(parent, {k: v for k, v in confirmed.items() if v is not None})
    tracker.set_tags(parent, {"mlflow.note.content": description(info.name, cfg, report_text)})
    tracker.share_view(
        info.experiment_id, view_key(info.name), runs_view(info.name, cfg.search.objectives)
    )
