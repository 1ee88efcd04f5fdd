"""The sandbox's users and groups, and the generated /etc files."""

from __future__ import annotations

from dataclasses import dataclass

from motte.errors import UsageError
from motte.manifest import Manifest

SANDBOX_USER = "user"
SANDBOX_UID = 1000


@dataclass
class Account:
    name: str
    uid: int
    gid: int
    home: str
    shell: str


def _host_system_accounts() -> list[Account]:
    """System accounts (uid < 1000 or nobody) from the host's passwd: the
    programs expect them (files in /usr are owned by root, daemon, ...). No
    host person's account is copied."""
    out = []
    try:
        with open("/etc/passwd") as f:
            for line in f:
                p = line.rstrip("\n").split(":")
                if len(p) < 7 or not p[2].isdigit() or not p[3].isdigit():
                    continue
                uid = int(p[2])
                if uid < 1000 or uid == 65534:
                    home = "/root" if uid == 0 else p[5]
                    out.append(Account(p[0], uid, int(p[3]), home, p[6]))
    except OSError:
        pass
    if not any(a.uid == 0 for a in out):
        out.insert(0, Account("root", 0, 0, "/root", "/bin/bash"))
    return out


def _host_system_groups() -> list[tuple[str, int]]:
    out = []
    try:
        with open("/etc/group") as f:
            for line in f:
                p = line.rstrip("\n").split(":")
                if len(p) >= 3 and p[2].isdigit() and (int(p[2]) < 1000 or int(p[2]) == 65534):
                    out.append((p[0], int(p[2])))
    except OSError:
        pass
    return out


@dataclass
class Identity:
    accounts: list[Account]
    groups: list[tuple[str, int]]
    uid: int
    gid: int
    home: str
    name: str

    def passwd(self) -> str:
        return "".join(f"{a.name}:x:{a.uid}:{a.gid}:{a.name}:{a.home}:{a.shell}\n" for a in self.accounts)

    def group(self) -> str:
        return "".join(f"{n}:x:{g}:\n" for n, g in self.groups)


def build_identity(m: Manifest) -> Identity:
    accounts = _host_system_accounts()
    groups = _host_system_groups()
    accounts.append(Account(SANDBOX_USER, SANDBOX_UID, SANDBOX_UID, f"/home/{SANDBOX_USER}", "/bin/bash"))
    if not any(g == SANDBOX_UID for _, g in groups):
        groups.append((SANDBOX_USER, SANDBOX_UID))
    want = m.user
    acct = None
    if want.isdigit():
        uid = int(want)
        acct = next((a for a in accounts if a.uid == uid), None)
        if acct is None:
            acct = Account(f"uid{uid}", uid, uid, "/", "/bin/sh")
    else:
        acct = next((a for a in accounts if a.name == want), None)
        if acct is None:
            raise UsageError(f"--user {want}: no such user in the sandbox (known: root, {SANDBOX_USER} or a uid)")
    return Identity(accounts, groups, acct.uid, acct.gid, acct.home, acct.name)
