"""The command line's detached verbs: ``--detach`` on launch, resume, confirm, ablate and
reproduce (submit the command as a Ray Job, :mod:`study.files.jobs`), and ``logs`` and ``stop``.

Before anything is submitted, the client checks what it can: the config, and where the job will
run in this folder (``--workdir`` not given or this one), the study's name, its tracking store and
the cluster's address, exactly as a foreground command would. Bad input is then one line and
exit 2, and nothing is submitted.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

__all__ = ["add_detach", "detach", "detach_requested", "cmd_logs", "cmd_stop"]

DETACHED = ("launch", "resume", "confirm", "ablate", "reproduce")


def add_detach(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--detach",
        action="store_true",
        help="submit to the cluster as a Ray Job and return (needs --address or RAY_ADDRESS)",
    )
    parser.add_argument(
        "--workdir", help="--detach: the folder on the head the job runs in (default: this one)"
    )


def _without_detach(argv: list[str], name: str | None) -> list[str]:
    """The command as the job runs it: no --detach, no --workdir, the study's name fixed, and
    ``--address auto``: a job's driver finds its cluster from the variables Ray sets for it."""
    out, skip = [], False
    for item in argv:
        if skip:
            skip = False
            continue
        if item == "--detach" or item.startswith(("--workdir=", "--address=")):
            continue
        if item in ("--workdir", "--address"):
            skip = True
            continue
        out.append(item)
    out += ["--address", "auto"]
    if name is not None and "--name" not in out and not any(a.startswith("--name=") for a in out):
        out += ["--name", name]
    return out


def _here(args: argparse.Namespace) -> bool:
    """Whether the job runs in this very folder, so that every check can be made here."""
    return not args.workdir or Path(args.workdir).resolve() == Path.cwd().resolve()


def _gcs(address: str | None) -> str | None:
    """The cluster address a foreground command would take, None for a job server's URL (whose
    reach :func:`study.files.jobs.submit` checks)."""
    return None if not address or address.startswith(("http://", "https://")) else address


def _check(args: argparse.Namespace) -> tuple[str, Path]:
    """The client's checks for a detached verb; (the study's name, the studies folder)."""
    from study.files.config import load_config

    if args.verb == "launch":
        from study.run.launch import free_name, preflight

        cfg = load_config(args.config, args.overrides)
        studies = Path(cfg.tracking.studies_dir)
        name = args.name if args.name is not None else free_name(studies, args.config)
        if _here(args):
            preflight(cfg, name, _gcs(args.address))
            if args.start_from:
                from study.run.launch import _earlier

                _earlier(args.start_from)
        return name, studies
    if args.verb == "reproduce":
        from study.reproduce.run import _default_dir

        folder = Path(args.out) if args.out else _default_dir(args.scale, args.seeds)
        return folder.name, Path("studies")
    name = Path(args.study).name
    if _here(args):  # resume, confirm, ablate: the study must be here and continuable
        from study.files.directory import read_study
        from study.run.launch import check_resumable

        info = read_study(args.study)
        check_resumable(info, _gcs(args.address))
        return info.name, info.dir.parent
    return name, Path("studies")


def detach(args: argparse.Namespace, argv: list[str]) -> int:
    """Check, submit, print the study and the job, return."""
    from study.console import say
    from study.files.jobs import job_server, submit

    job_server(args.address)  # a cluster to submit to, named before anything else
    name, studies = _check(args)
    command = _without_detach(argv, name if args.verb == "launch" else None)
    record = submit(
        command,
        name=name,
        verb=args.verb,
        address=args.address,
        studies=studies,
        workdir=args.workdir,
    )
    say(f"[study] {name}: submitted as Ray job {record.job_id} to {record.server}")
    say(f"  follow it: scalefree logs {name} -f · stop it: scalefree stop {name}")
    return 0


def _record(name: str):
    from study.files.jobs import record_of

    record = record_of(Path("studies"), Path(name).name)
    if record is None:
        raise ValueError(
            f"study: must be a study submitted from here with --detach (no "
            f"studies/.jobs/{Path(name).name}.json), but got {name!r}."
        )
    return record


def cmd_logs(args: argparse.Namespace) -> int:
    from study.files.jobs import logs

    try:
        logs(_record(args.study), follow=args.follow)
    except KeyboardInterrupt:  # Ctrl-C ends the following, not the job
        return 0
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    from study.console import say
    from study.files.jobs import STOP_WAIT_S, stop

    record = _record(args.study)
    say(
        f"[study] {record.name}: stopping job {record.job_id} as a Ctrl-C would (up to "
        f"{STOP_WAIT_S} s for trials to stop and Tune to save its state)"
    )
    state = stop(record)
    say(
        f"[study] {record.name}: job {state.lower()}; `scalefree resume {record.name}` continues it"
    )
    return 0


def detach_requested(args: argparse.Namespace) -> bool:
    return (
        args.verb in DETACHED
        and getattr(args, "detach", False)
        and not os.environ.get("RAY_JOB_CONFIG_JSON_ENV_VAR")
    )
