"""The ``scalefree`` command line: launch, resume, confirm, ablate, report, status, list, config,
generate, ui, reproduce.

Bad input of any kind prints one line ``scalefree: error: KEY: RULE, but got VALUE.`` and exits 2
before anything is started or written.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from study.detach import add_detach, cmd_logs, cmd_stop, detach, detach_requested

__all__ = ["main"]


class UsageError(ValueError):
    """Bad input: reported as one line with exit code 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scalefree", description=__doc__.splitlines()[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    loud = argparse.ArgumentParser(add_help=False)
    loud.add_argument(
        "-v", "--verbose", action="store_true", help="also show Ray's and Tune's own output"
    )

    def with_config(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "config", metavar="PRESET_OR_YAML", help="smoke | reference | paper | path.yaml"
        )
        p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")

    launch = verbs.add_parser("launch", parents=[loud], help="run a study")
    with_config(launch)
    launch.add_argument(
        "--name", help="study name (default: the preset or file name, -2, -3, … if taken)"
    )
    launch.add_argument("--address", help="Ray cluster address to attach to (default: local Ray)")
    launch.add_argument(
        "--from", dest="start_from", metavar="NAME", help="start the search from a study's trials"
    )
    add_detach(launch)
    resume = verbs.add_parser("resume", parents=[loud], help="resume an interrupted study")
    resume.add_argument("study", metavar="NAME_OR_DIR")
    resume.add_argument("--address", help="Ray cluster address to attach to")
    add_detach(resume)
    confirm = verbs.add_parser(
        "confirm",
        parents=[loud],
        help="run chosen configurations again with fresh seeds (mean and interval)",
    )
    confirm.add_argument("study", metavar="NAME_OR_DIR")
    confirm.add_argument("--seeds", type=int, default=3, help="fresh trial seeds (default 3)")
    confirm.add_argument(
        "--trials", default="front", help="front (the Pareto front) or trial ids, comma-separated"
    )
    confirm.add_argument(
        "--race",
        action="store_true",
        help="add one seed at a time where intervals still overlap (after --seeds)",
    )
    confirm.add_argument(
        "--max-seeds", type=int, default=8, help="--race: seeds a configuration gets at most"
    )
    confirm.add_argument("--address", help="Ray cluster address to attach to")
    add_detach(confirm)
    ablate = verbs.add_parser(
        "ablate",
        parents=[loud],
        help="one trial's configuration, one parameter varied over levels, seeds per level",
    )
    ablate.add_argument("study", metavar="NAME_OR_DIR")
    ablate.add_argument("--trial", required=True, help="the finished search trial to vary")
    ablate.add_argument(
        "--vary", required=True, metavar="space.PARAM=[LEVELS]", help="e.g. space.stages=[1,2,3]"
    )
    ablate.add_argument("--seeds", type=int, default=3, help="fresh seeds per level (default 3)")
    ablate.add_argument("--address", help="Ray cluster address to attach to")
    add_detach(ablate)
    report = verbs.add_parser("report", help="Pareto table and figures of a study")
    report.add_argument("study", metavar="NAME_OR_DIR")
    config = verbs.add_parser("config", help="print the resolved config as YAML; runs nothing")
    with_config(config)
    generate = verbs.add_parser("generate", parents=[loud], help="generate the dataset only")
    with_config(generate)
    generate.add_argument("--out", required=True, help="dataset cache directory")
    generate.add_argument("--address", help="Ray cluster address to attach to")
    status = verbs.add_parser("status", help="where a study stands (all studies: `list`)")
    status.add_argument("study", nargs="?", metavar="NAME_OR_DIR")
    verbs.add_parser("list", help="every study under ./studies with its state")
    ui = verbs.add_parser("ui", help="serve the MLflow UI for the study's tracking store")
    ui.add_argument("study", nargs="?", metavar="NAME_OR_DIR")
    ui.add_argument("--port", type=int, default=5000)
    repro = verbs.add_parser(
        "reproduce", parents=[loud], help="the paper's protocol, paper vs measured"
    )
    repro.add_argument("--scale", choices=("smoke", "cpu", "paper"), default="cpu")
    repro.add_argument(
        "--seeds", type=int, default=1, help="trial seeds per run; verdicts by their interval"
    )
    repro.add_argument("--out", help="run folder (default studies/reproduce-SCALE[-KSEEDS])")
    repro.add_argument("--address", help="Ray cluster address to attach to")
    add_detach(repro)
    logs = verbs.add_parser("logs", help="a detached study's output (the lines a launch prints)")
    logs.add_argument("study", metavar="NAME")
    logs.add_argument("-f", "--follow", action="store_true", help="until the job ends")
    stop = verbs.add_parser("stop", help="stop a detached study as Ctrl-C would; resume continues")
    stop.add_argument("study", metavar="NAME")
    return parser


def _cmd_config(args: argparse.Namespace) -> int:
    from study.files.config import config_yaml, load_config
    from study.run.launch import check_config

    cfg = load_config(args.config, args.overrides)
    check_config(cfg)
    print(config_yaml(cfg), end="")
    return 0


def _cmd_generate(args: argparse.Namespace) -> int:
    from study.files.config import load_config
    from study.run.cluster import connect
    from study.run.data import generate_with_ray

    cfg = load_config(args.config, args.overrides)
    spec = cfg.trial.data
    with connect(args.address):
        directory = generate_with_ray(
            spec, args.out, max_in_flight=cfg.resources.data_workers or None
        )
    print(directory)
    return 0


def _cmd_launch(args: argparse.Namespace) -> int:
    from study.files.config import load_config
    from study.run.launch import free_name, launch

    cfg = load_config(args.config, args.overrides)
    # An explicit --name is checked as given ('' too); only a missing one is derived.
    studies = Path(cfg.tracking.studies_dir)
    name = args.name if args.name is not None else free_name(studies, args.config)
    launch(cfg, name=name, address=args.address, preset=args.config, start_from=args.start_from)
    return 0


def _cmd_resume(args: argparse.Namespace) -> int:
    from study.run.launch import resume

    resume(args.study, address=args.address)
    return 0


def _cmd_ablate(args: argparse.Namespace) -> int:
    from study.run.launch import ablate

    ablate(args.study, trial=args.trial, vary=args.vary, seeds=args.seeds, address=args.address)
    return 0


def _cmd_confirm(args: argparse.Namespace) -> int:
    from study.run.launch import confirm

    confirm(
        args.study,
        seeds=args.seeds,
        trials=args.trials,
        address=args.address,
        race=args.race,
        max_seeds=args.max_seeds,
    )
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from study.read.report import report

    report(args.study)
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    from study.read.status import print_list, print_status, state_of, studies

    if args.study is None:  # the newest study, as `git status` needs no argument
        found = studies()
        if not found:
            print_list(found)
            return 0
        print_status(found[-1])
        return 0
    try:
        state = state_of(args.study)
    except ValueError:  # submitted with --detach, its driver not started yet
        state = next((s for s in studies() if s.name == Path(args.study).name and s.job), None)
        if state is None:
            raise
    print_status(state)
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from study.read.status import print_list, studies

    print_list(studies())
    return 0


def _cmd_ui(args: argparse.Namespace) -> int:
    from study.ui import serve_ui

    if not 1 <= args.port <= 65535:
        raise ValueError(f"--port: must be a TCP port in [1, 65535], but got {args.port}.")
    return serve_ui(args.study, port=args.port)


def _cmd_reproduce(args: argparse.Namespace) -> int:
    from study.reproduce import reproduce

    reproduce(scale=args.scale, address=args.address, seeds=args.seeds, out_dir=args.out)
    return 0


COMMANDS = {
    "config": _cmd_config,
    "generate": _cmd_generate,
    "launch": _cmd_launch,
    "resume": _cmd_resume,
    "confirm": _cmd_confirm,
    "ablate": _cmd_ablate,
    "report": _cmd_report,
    "status": _cmd_status,
    "list": _cmd_list,
    "ui": _cmd_ui,
    "logs": cmd_logs,
    "stop": cmd_stop,
    "reproduce": _cmd_reproduce,
}


# Verbs that load Optuna, Ray or MLflow's store (the others stay light: `config`, `status`, `ui`)
QUIETED = frozenset({"launch", "resume", "confirm", "ablate", "report", "reproduce", "generate"})


# Verbs that run a study or a reproduction: Ctrl-C and SIGTERM are theirs to act on
GUARDED = frozenset({"launch", "resume", "confirm", "ablate", "reproduce"})


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if getattr(args, "verbose", False):
        os.environ["SCALEFREE_VERBOSE"] = "1"
    from study.console import checkpoint, guard_signals, quiet

    # light: `scalefree ui` must not load torch
    from study.files.errors import (
        DiskFull,
        JobRefused,
        StudyFailed,
        TrackingGone,
        disk_full,
        disk_full_line,
    )

    if args.verb in QUIETED:
        quiet()  # library loggers and warnings, once, before the verb imports them
    if args.verb in GUARDED and not detach_requested(args):
        guard_signals()  # a Ctrl-C is recorded and acted on at a safe point, never lost
    try:
        if detach_requested(args):
            return detach(args, list(sys.argv[1:] if argv is None else argv))
        code = COMMANDS[args.verb](args)
        checkpoint()  # one that came after the last safe point still ends the command as one
        return code
    except ValueError as err:  # user input: config keys, paths, addresses
        print(f"scalefree: error: {err}", file=sys.stderr)
        return 2
    except StudyFailed as err:  # it ran, and no trial finished
        print(f"scalefree: error: {err}", file=sys.stderr)
        return 1
    except TrackingGone as err:  # the MLflow server stayed away: resume once it is back
        print(f"scalefree: error: {err}", file=sys.stderr)
        return 1
    except JobRefused as err:  # the cluster would not take a detached study: try again later
        print(f"scalefree: error: {err}", file=sys.stderr)
        return 1
    except DiskFull as err:  # the studies folder is full: nothing half-written, resume later
        print(f"scalefree: error: {err}", file=sys.stderr)
        return 1
    except Exception as err:
        from study.files.outage import unreachable

        if disk_full(err):
            print(f"scalefree: error: {disk_full_line(Path('studies'))}", file=sys.stderr)
            return 1
        if unreachable(err) and args.verb in GUARDED:
            print(
                "scalefree: error: tracking.uri: must stay reachable (the tracking server stopped "
                "answering; `scalefree resume` completes the study once it is back), but got "
                f"{type(err).__name__}.",
                file=sys.stderr,
            )
            return 1
        raise
    except KeyboardInterrupt:
        again = (
            "the same `scalefree reproduce` command"
            if args.verb == "reproduce"
            else "`scalefree resume`"
        )
        print(f"scalefree: interrupted; {again} continues where this stopped", file=sys.stderr)
        return 130


def run() -> None:
    """The ``scalefree`` command: :func:`main`, then an exit that skips the interpreter's teardown.

    After a study the driver holds ~5,000 modules (torch, scikit-learn and matplotlib among them,
    loaded by the report and by Ray's deserialisation); tearing them down took 2.6 s of every
    command's wall time on 2 cores (benchmarks/study_overhead.py). Everything the command
    started is stopped by then (Ray, its lock, the MLflow runs are written): the exit handlers
    still run and the streams are flushed, only the module teardown is skipped, and only when no
    other thread is left to finish. Tests call :func:`main`, which returns."""
    import atexit
    import threading

    code = main()
    if threading.active_count() > 1:
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing left to say
            pass
    os._exit(code)


if __name__ == "__main__":
    run()
