#!/usr/bin/env python3
"""Run the system-call fuzzer for as long as you like and report what it found.

    .venv/bin/python tools/fuzz.py --seconds 600 --seed 7
    .venv/bin/python tools/fuzz.py --seconds 60 --user root --trace      # calls that hit each internal error
    .venv/bin/python tools/fuzz.py --seconds 60 --no-fifos               # look past the FIFO deadlock

It builds tests/fuzz/fuzz.c, runs it in one sandbox per --user (default: the
default user and root, at the same time) with the checks of
tests/test_fuzz.py, and prints for each run: calls issued, distinct system
calls reached, the prober's worst latency, motte's fds/RSS/threads, the
internal errors grouped by place with one traceback each, a deadlock's
diagnosis, processes or cgroups left behind, and changes to the host. With
--trace, motte's call trace is kept and the calls that got EIO from each
failing handler are shown (decoded arguments: a reproduction). The exit
status is 1 when any check fails.

The same checks run under pytest with
`MOTTE_FUZZ_SECONDS=600 MOTTE_FUZZ_SEED=7 .venv/bin/python -m pytest tests/test_fuzz.py`.
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _harness():
    spec = importlib.util.spec_from_file_location("motte_fuzz_harness", ROOT / "tests" / "test_fuzz.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def eio_calls(trace: Path, handlers: set[str], per_handler: int = 3) -> dict[str, list[str]]:
    """Trace lines of calls to `handlers` answered EIO (an internal error's
    answer), a few per handler."""
    out: dict[str, list[str]] = collections.defaultdict(list)
    names = {h.removeprefix("sys_") for h in handlers}
    pat = re.compile(r"^\[\S+\] (\w+)\(.*\) = -1 EIO ")
    with open(trace, errors="replace") as f:
        for line in f:
            m = pat.match(line)
            if m and m.group(1) in names and len(out[m.group(1)]) < per_handler:
                out[m.group(1)].append(line.rstrip("\n")[:400])
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=600)
    ap.add_argument("--seed", type=lambda s: int(s, 0), default=1)
    ap.add_argument("--workers", type=int, default=4, help="fuzzing processes per sandbox")
    ap.add_argument(
        "--user", action="append", help="a sandbox per value ('' for the default user); default: '' and root"
    )
    ap.add_argument("--no-fifos", action="store_true", help="make no FIFO (to look past a known FIFO deadlock)")
    ap.add_argument("--trace", action="store_true", help="keep motte's --trace and show the calls that got EIO")
    ap.add_argument("--keep", metavar="DIR", help="keep the outputs in DIR (default: a temporary directory)")
    args = ap.parse_args()

    h = _harness()
    users = args.user if args.user is not None else ["", "root"]
    base = Path(args.keep or tempfile.mkdtemp(prefix="motte-fuzz-"))
    base.mkdir(parents=True, exist_ok=True)
    bins = base / "bin"
    bins.mkdir(exist_ok=True)
    bins.chmod(0o755)
    fuzz_bin = h.compile_fuzzer(bins)
    runs = []
    for u in users:
        wd = base / f"run-{u or 'user'}"
        wd.mkdir(exist_ok=True)
        runs.append(
            h.FuzzRun(
                fuzz_bin,
                wd,
                seconds=args.seconds,
                seed=args.seed,
                workers=args.workers,
                user=u,
                no_fifos=args.no_fifos,
                trace=wd / "trace.txt" if args.trace else None,
            )
        )
    print(f"fuzzing {args.seconds} s, seed {args.seed}, users {users}; outputs in {base}", flush=True)
    bins_before = h.tree_state(bins)
    before = h.host_snapshot()
    with h.DevGuard() as guard:
        results = h.run_all(runs)
    changes = h.host_changes(before, h.host_snapshot()) + [f"host device node changed: {c}" for c in guard.changes]
    if h.tree_state(bins) != bins_before:
        changes.append(f"the read-only mount {bins} changed")
    changes += h.stdio_changes(results)

    failed = bool(changes)
    for run, r in zip(runs, results, strict=True):
        print("=" * 100)
        print(h.summary_line(r))
        print(f"reached (0..469): {r.distinct_known()}; unsupported (ENOSYS): {', '.join(r.unsupported) or '-'}")
        print(
            f"worker crashes (inside the sandbox, informational): {len(r.died)}; stuck workers killed: {len(r.stuck)}"
        )
        for name, msgs in h.problems(r).items():
            if not msgs:
                continue
            failed = True
            print(f"--- FAILED: {name}")
            for m in msgs:
                print(m)
        if args.trace and r.errors and run.cmd.count("--trace"):
            trace = Path(run.cmd[run.cmd.index("--trace") + 1])
            calls = eio_calls(trace, {hn for g in r.errors for hn in g.handlers})
            print("--- calls answered EIO, by handler (reproductions):")
            for _name, lines in sorted(calls.items()):
                for line in lines:
                    print(f"  {line}")
    print("=" * 100)
    if changes:
        print("--- FAILED: the host changed:")
        for c in changes[:50]:
            print(f"  {c}")
    print("all checks hold" if not failed else "some checks failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
