"""Shared helpers for running real programs inside a motte sandbox and natively.

`run_sandbox` runs `motte run [options] -- ARGS...`; `run_native` runs the same
program directly on the host with a small, fixed environment resembling the
sandbox's (same PATH and LANG) so that outputs can be compared. Both return a
`subprocess.CompletedProcess` (text mode unless text=False is passed).
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence

import pytest

# What the sandbox's processes get when nothing else is asked for.
SANDBOX_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SANDBOX_USER = "user"
SANDBOX_UID = 1000
SANDBOX_HOME = "/home/user"
SANDBOX_HOSTNAME = "motte"

# The host's own user: files it owns show up inside the sandbox as the sandbox
# user (the tests run as root on the host, the sandbox user is uid 1000).
HOST_USER = pwd.getpwuid(os.getuid()).pw_name
HOST_GROUP = grp.getgrgid(os.getgid()).gr_name

# The interpreter the sandbox sees at /usr/bin/python3 (the host's `python3`
# on PATH may be a different one, e.g. pyenv).
SYSTEM_PYTHON = "/usr/bin/python3"


def _find_motte() -> str:
    candidates = [
        os.path.join(sys.prefix, "bin", "motte"),
        os.path.join(os.path.dirname(sys.executable), "motte"),
    ]
    for c in candidates:
        if os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    found = shutil.which("motte")
    if found:
        return found
    raise RuntimeError("cannot find the motte executable (looked in sys.prefix/bin and PATH)")


MOTTE = _find_motte()


def _mount_spec(m: str | Sequence[str]) -> str:
    if isinstance(m, str):
        return m
    return ":".join(str(p) for p in m)


def run_sandbox(
    args: Sequence[str],
    input: str | bytes | None = None,
    mounts: Iterable[str | Sequence[str]] = (),
    workdir: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
    *,
    options: Sequence[str] = (),
    text: bool = True,
    host_env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess:
    """Run ARGS in a fresh sandbox.

    mounts: "HOST:SANDBOX[:mode]" strings or (host, sandbox[, mode]) tuples.
    env: variables given to the sandboxed program with -e.
    options: further `motte run` options placed before `--`.
    host_env: extra variables in motte's own (host) environment.
    stdin is /dev/null unless input is given.
    """
    cmd = [MOTTE, "run"]
    for m in mounts:
        cmd += ["--mount", _mount_spec(m)]
    if workdir is not None:
        cmd += ["-w", str(workdir)]
    for k, v in (env or {}).items():
        cmd += ["-e", f"{k}={v}"]
    cmd += list(options)
    if args:  # none: the program comes from a --manifest
        cmd += ["--", *[str(a) for a in args]]
    penv = dict(os.environ)
    penv.update(host_env or {})
    if isinstance(input, str) and not text:
        input = input.encode()
    return subprocess.run(
        cmd,
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        text=text,
        env=penv,
        timeout=timeout,
    )


def native_env(home: str | os.PathLike | None = None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {"PATH": SANDBOX_PATH, "LANG": "C.UTF-8", "HOME": str(home or "/nonexistent")}
    env.update(extra or {})
    return env


def run_native(
    args: Sequence[str],
    input: str | bytes | None = None,
    cwd: str | os.PathLike | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
    *,
    text: bool = True,
) -> subprocess.CompletedProcess:
    """Run ARGS on the host, with PATH/LANG like the sandbox's plus ENV."""
    if isinstance(input, str) and not text:
        input = input.encode()
    return subprocess.run(
        [str(a) for a in args],
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        text=text,
        cwd=cwd,
        env=native_env(home=cwd, extra=env),
        timeout=timeout,
    )


def normalise(text: str, replacements: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> str:
    """Apply literal replacements, longest first."""
    pairs = list(replacements.items()) if isinstance(replacements, Mapping) else list(replacements)
    for old, new in sorted(pairs, key=lambda p: -len(p[0])):
        text = text.replace(old, new)
    return text


def ls_owner_to_sandbox(text: str) -> str:
    """In `ls -l` output, show the host user's files as the sandbox user's."""
    out = []
    # [inode] mode links owner group rest
    pat = re.compile(r"^(\s*(?:\d+\s+)?[-dlpcbs][-rwxsStT]{9}\S*\s+\d+\s+)(\S+)(\s+)(\S+)(\s.*)$", re.S)
    for line in text.splitlines(keepends=True):
        m = pat.match(line)
        if m:
            owner = SANDBOX_USER if m.group(2) == HOST_USER else m.group(2)
            group = SANDBOX_USER if m.group(4) == HOST_GROUP else m.group(4)
            line = f"{m.group(1)}{owner}{m.group(3)}{group}{m.group(5)}"
        out.append(line)
    return "".join(out)


def assert_same(
    sandboxed: subprocess.CompletedProcess, native: subprocess.CompletedProcess, *, stderr: bool = True, fix=lambda s: s
) -> None:
    """Same exit status and output (after `fix`), with a readable diff on failure."""
    detail = f"\n--- sandbox stderr:\n{sandboxed.stderr}\n--- native stderr:\n{native.stderr}"
    assert fix(sandboxed.stdout) == fix(native.stdout), "stdout differs" + detail
    if stderr:
        assert fix(sandboxed.stderr) == fix(native.stderr), "stderr differs" + detail
    assert sandboxed.returncode == native.returncode, "exit status differs" + detail


@pytest.fixture
def motte_bin() -> str:
    return MOTTE
