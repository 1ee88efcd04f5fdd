"""uname, sysinfo: the kernel identity and machine the manifest pins."""

from __future__ import annotations

import ctypes
import struct
import time

from motte.libos.call import Call


def sys_uname(call: Call, buf: int) -> int:
    cfg = call.os.config
    k = cfg.kernel
    fields = (k.sysname, cfg.hostname, k.release, k.version, k.machine, k.domainname)
    call.write(buf, b"".join(f.encode()[:64].ljust(65, b"\0") for f in fields))
    return 0


_libc = ctypes.CDLL(None, use_errno=True)


def sys_sysinfo(call: Call, buf: int) -> int:
    raw = ctypes.create_string_buffer(112)
    _libc.sysinfo(raw)
    vals = list(struct.unpack("=q3Q6QH6xQQI4x", raw.raw))
    vals[0] = int(time.monotonic() - call.os.start_monotonic)  # uptime of the sandbox
    vals[10] = len(call.os.procs.live())  # its processes, not the host's
    call.write(buf, struct.pack("=q3Q6QH6xQQI4x", *vals))
    return 0
