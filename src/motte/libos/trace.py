"""strace-like decoding of a trapped call's arguments for --trace."""

from __future__ import annotations

import errno
import signal

from motte.libos.call import Call, sint


def _fmt(call: Call, kind: str, v: int) -> str:
    if kind == "path":
        if not v:
            return "NULL"
        try:
            return repr(call.path(v).decode("utf-8", "replace"))
        except OSError as e:
            return f"{v:#x} ({errno.errorcode.get(e.errno or 0, '?')})"
    if kind == "fd":
        s = sint(v)
        return "AT_FDCWD" if s == -100 else str(s)
    if kind in ("hex", "ptr", "oflags"):
        return hex(v)
    if kind == "mode":
        return oct(v)
    if kind == "sig":
        try:
            return signal.Signals(sint(v)).name
        except ValueError:
            return str(sint(v))
    return str(sint(v) if v < 1 << 32 else v)


def format_call(call: Call, argtypes: tuple[str, ...]) -> str:
    return ", ".join(_fmt(call, k, v) for k, v in zip(argtypes, call.args, strict=False))
