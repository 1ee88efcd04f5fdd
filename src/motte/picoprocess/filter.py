"""The seccomp-BPF program generated from the ABI table.

Layout of the program:
  1. a wrong architecture (the i386 `int 0x80` entry, AUDIT_ARCH_I386) kills
     the process; an x32 call number (bit 30) answers ENOSYS;
  2. each ABI call without a constraint: ALLOW;
  3. each ABI call with a constraint: jump to its check, which ALLOWs or
     falls to USER_NOTIF;
  4. everything else: USER_NOTIF, delivered to the library OS.
"""

from __future__ import annotations

import errno

from motte.kernel import seccomp as sc
from motte.kernel.sysnums import SYSCALLS_X86_64
from motte.picoprocess.abi import ABI, AbiCall, ArgIn, FlagsRequire

LD = sc.BPF_LD_W_ABS
JEQ = sc.BPF_JMP_JEQ_K
JGE = sc.BPF_JMP_JGE_K
JSET = sc.BPF_JMP_JSET_K
RET = sc.BPF_RET_K
JA = sc.BPF_JMP_JA


class _Asm:
    """Classic BPF with symbolic forward jump targets."""

    def __init__(self) -> None:
        self.insns: list[list] = []
        self.labels: dict[str, int] = {}

    def op(self, code: int, k: int = 0, jt: str | None = None, jf: str | None = None) -> None:
        self.insns.append([code, jt, jf, k])

    def label(self, name: str) -> None:
        self.labels[name] = len(self.insns)

    def assemble(self) -> list[tuple[int, int, int, int]]:
        out = []
        for i, (code, jt, jf, k) in enumerate(self.insns):
            if code == JA:
                out.append((code, 0, 0, self._rel(i, jt)))
            else:
                out.append((code, self._rel(i, jt), self._rel(i, jf), k))
        return out

    def _rel(self, at: int, label: str | None) -> int:
        """Classic BPF jumps only forward, by at most 255 instructions."""
        if label is None:
            return 0
        d = self.labels[label] - at - 1
        if not 0 <= d <= 255:
            raise ValueError(f"BPF jump to {label} out of range ({d})")
        return d


def _emit_constraint(a: _Asm, call: AbiCall) -> None:
    c = call.constraint
    if isinstance(c, ArgIn):
        a.op(LD, sc.off_arg(c.index))
        for v in c.values:
            a.op(JEQ, v, jt="allow")
        a.op(JA, jt="notify")
    elif isinstance(c, FlagsRequire):
        a.op(LD, sc.off_arg(c.index, high=True))
        a.op(JEQ, 0, jf="notify")
        a.op(LD, sc.off_arg(c.index))
        a.op(JSET, c.forbid, jt="notify")
        # All `must` bits set: (flags & must) == must, tested bit by bit.
        for bit in range(32):
            if c.must & (1 << bit):
                a.op(JSET, 1 << bit, jf="notify")
        a.op(JA, jt="allow")
    else:  # pragma: no cover - the table holds only these kinds
        raise TypeError(c)


def build_program(abi: tuple[AbiCall, ...] = ABI) -> list[tuple[int, int, int, int]]:
    a = _Asm()
    a.op(LD, sc.OFF_ARCH)
    a.op(JEQ, sc.AUDIT_ARCH_X86_64, jt="arch_ok")
    a.op(RET, sc.SECCOMP_RET_KILL_PROCESS)
    a.label("arch_ok")
    a.op(LD, sc.OFF_NR)
    a.op(JGE, sc.X32_SYSCALL_BIT, jt="enosys")
    constrained = []
    for call in abi:
        nr = SYSCALLS_X86_64[call.name]
        if call.constraint is None:
            a.op(JEQ, nr, jt="allow")
        else:
            a.op(JEQ, nr, jt=f"check_{call.name}")
            constrained.append(call)
    a.op(RET, sc.SECCOMP_RET_USER_NOTIF)
    for call in constrained:
        a.label(f"check_{call.name}")
        _emit_constraint(a, call)
    a.label("allow")
    a.op(RET, sc.SECCOMP_RET_ALLOW)
    a.label("notify")
    a.op(RET, sc.SECCOMP_RET_USER_NOTIF)
    a.label("enosys")
    a.op(RET, sc.SECCOMP_RET_ERRNO | errno.ENOSYS)
    return a.assemble()


def filter_bytes() -> bytes:
    return sc.pack_program(build_program())
