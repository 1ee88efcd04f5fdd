"""The `motte` command line."""

from __future__ import annotations

import argparse
import os
import sys
from typing import NoReturn

from motte.errors import EXIT_USAGE, MotteError, UsageError
from motte.manifest import Manifest, load_manifest, parse_mount_option


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"motte: {message}", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="motte", description="Run unmodified Linux programs in a picoprocess sandbox.")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser(
        "run", help="run PROGRAM in a new sandbox", description="motte run [OPTIONS] -- PROGRAM [ARGS...]"
    )
    r.add_argument("--manifest", metavar="FILE", help="TOML manifest (options given here override it)")
    r.add_argument("--mount", action="append", default=[], metavar="HOST:SANDBOX[:ro|rw]")
    r.add_argument("-w", "--workdir", metavar="DIR")
    r.add_argument("-e", "--env", action="append", default=[], metavar="KEY=VALUE")
    r.add_argument("-i", "--interactive", action="store_true", help="keep stdin open to the sandbox")
    r.add_argument("-t", "--tty", action="store_true", help="give the sandbox a pseudo-terminal")
    r.add_argument("--user", metavar="NAME|UID")
    r.add_argument("--hostname")
    r.add_argument("--persist", metavar="DIR", help="keep the writable layer in DIR")
    r.add_argument("--trace", metavar="FILE", help="write one line per serviced call to FILE")
    r.add_argument("--memory", type=int, metavar="MB", help="limits.memory_mb")
    r.add_argument("--pids", type=int, metavar="N", help="limits.processes")
    r.add_argument("--nofile", type=int, metavar="N", help="limits.open_files")
    r.add_argument("--cpu", type=int, metavar="SECONDS", help="limits.cpu_seconds")
    r.add_argument("--timeout", type=int, metavar="SECONDS", help="limits.wall_seconds")
    r.add_argument("--disk", type=int, metavar="MB", help="limits.writable_layer_mb")
    r.add_argument("--cpus", metavar="auto|all|LIST", help="limits.cpus")
    r.add_argument("--debug", action="store_true", help="show the library OS's log and tracebacks")
    r.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- PROGRAM [ARGS...]")
    a = sub.add_parser("abi", help="print the picoprocess ABI and the library OS's system-call table")
    a.add_argument("--markdown", action="store_true")
    return p


def manifest_from_args(ns: argparse.Namespace) -> Manifest:
    m = load_manifest(ns.manifest) if ns.manifest else Manifest()
    argv = list(ns.argv)
    if argv and argv[0] == "--":
        argv = argv[1:]
    if argv:
        m.argv = argv
    for spec in ns.mount:
        mt = parse_mount_option(spec)
        if not os.path.lexists(mt.host):
            raise UsageError(f"--mount {spec}: host path '{mt.host}' does not exist")
        m.mounts.append(mt)
    if ns.workdir:
        m.workdir = ns.workdir
    for kv in ns.env:
        k, sep, v = kv.partition("=")
        if not sep or not k:
            raise UsageError(f"--env {kv}: expected KEY=VALUE")
        m.env[k] = v
    m.interactive = m.interactive or ns.interactive
    m.tty = m.tty or ns.tty
    if ns.user is not None:
        m.user = ns.user
    if ns.hostname:
        m.hostname = ns.hostname
    if ns.persist:
        m.persist = ns.persist
    if ns.trace:
        m.trace = ns.trace
    for opt, attr in (
        ("memory", "memory_mb"),
        ("pids", "processes"),
        ("nofile", "open_files"),
        ("cpu", "cpu_seconds"),
        ("timeout", "wall_seconds"),
        ("disk", "writable_layer_mb"),
    ):
        v = getattr(ns, opt)
        if v is not None:
            if v < 0:
                raise UsageError(f"--{opt}: must not be negative")
            setattr(m.limits, attr, v)
    if ns.cpus:
        m.limits.cpus = ns.cpus
    m.debug = m.debug or ns.debug
    return m


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    ns = _parser().parse_args(args)
    debug = getattr(ns, "debug", False)
    try:
        if ns.command == "abi":
            from motte.docs import abi_markdown, abi_text

            sys.stdout.write(abi_markdown() if ns.markdown else abi_text() + "\n")
            return 0
        m = manifest_from_args(ns)
        from motte.run import run

        return run(m)
    except MotteError as e:
        print(f"motte: {e}", file=sys.stderr)
        return e.status
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # motte's own failure: one line unless --debug
        if debug:
            raise
        print(f"motte: internal error: {e.__class__.__name__}: {e} (run with --debug for details)", file=sys.stderr)
        return 125


def entry() -> NoReturn:
    sys.exit(main())
