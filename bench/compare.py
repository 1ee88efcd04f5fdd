"""motte side by side with the alternatives: native, bubblewrap, PRoot, a qemu VM and motte.

    python bench/compare.py [--quick]

Installs what it needs from the Debian archive (bubblewrap, proot, qemu,
busybox-static, a distribution kernel, cpio) when it runs as root, then runs
every contender on every workload, interleaved, and writes docs/compare.md and
docs/img/compare.png. Stdlib only; the plot is drawn by matplotlib in motte's
virtualenv (the `bench` extra, installed with pip when it is missing).

Every workload but start-up and memory is timed *inside* an already running
sandbox (or VM) by the C drivers of bench/run.py, so start-up counts once.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import lzma
import os
import platform
import pstats
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from run import PROBE_C, TIMEIT_C, gen_c, motte_env, sqlite_sql

ROOT = Path(__file__).resolve().parent.parent
MOTTE = ROOT / ".venv" / "bin" / "motte"
VENV_PY = ROOT / ".venv" / "bin" / "python"
OUT_MD = ROOT / "docs" / "compare.md"
OUT_PNG = ROOT / "docs" / "img" / "compare.png"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
NATIVE_ENV = {"PATH": PATH, "LANG": "C.UTF-8", "HOME": "/tmp"}
APT = ["bubblewrap", "proot", "qemu-system-x86", "busybox-static", "linux-image-amd64", "cpio", "gcc", "sqlite3"]
NEEDED = {"bwrap": "bubblewrap", "proot": "proot", "qemu-system-x86_64": "qemu-system-x86", "cpio": "cpio"}
BUDGET = 8 << 30  # density: idle sandboxes within 8 GiB
MB = 1 << 20

# Deterministic text for the pipeline: "item123456 group123" lines, about ARG megabytes.
GENDATA_C = r"""
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
    if (argc != 2) return 2;
    long long want = atoll(argv[1]) * 1000000LL, n = 0;
    unsigned x = 12345;
    while (n < want) {
        x = x * 1103515245u + 12345u;
        unsigned k = (x >> 8) % 200000;
        n += printf("item%06u group%03u\n", k, k % 997);
    }
    return 0;
}
"""

# One job, the same in every contender: prepare (untimed), then time the
# workload with the C drivers and print "RESULT <ns per run or per call>".
# B is where the benchmark's files are, T a scratch directory on a tmpfs.
JOB_SH = r"""#!/bin/sh
set -e
B=${B:-/bench}
T=${T:-/tmp}
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=$T
job=$1 k=$2 size=$3
case $job in
idle) echo ready; exec sleep "$size" ;;
py_pass) r=$("$B/timeit" "$k" python3 -c pass) ;;
py_import) r=$("$B/timeit" "$k" python3 -c 'import json, sqlite3, email, http.client') ;;
stat|pread) cp "$B/data" "$T/data"; r=$("$B/probe" "$job" "$T/data" "$k") ;;
sqlite) r=$("$B/timeit" "$k" sh -c 'rm -f "$1"; sqlite3 "$1" < "$2" > /dev/null' sh "$T/bench.db" "$B/work.sql") ;;
gcc) cp "$B/gen.c" "$T/gen.c"; cd "$T"; r=$("$B/timeit" "$k" sh -c 'gcc -O1 -o gen gen.c && ./gen > /dev/null') ;;
pipeline) "$B/gendata" "$size" > "$T/words"
  r=$("$B/timeit" "$k" sh -c 'cat "$1" | LC_ALL=C sort | LC_ALL=C uniq -c | LC_ALL=C sort -n | tail > /dev/null' sh "$T/words") ;;
*) echo "unknown job $job" >&2; exit 2 ;;
esac
echo "RESULT $r"
"""

# /init of the VM that runs the workloads (its root is the initramfs, laid out
# like the host: /bin -> usr/bin). For gcc the host's /usr is mounted over /usr
# through 9p (virtio), read-only.
WORK_INIT = r"""#!/usr/bin/busybox sh
bb=/usr/bin/busybox
$bb mount -t proc proc /proc
$bb mount -t sysfs sys /sys
$bb mount -t devtmpfs dev /dev
$bb mount -t tmpfs tmp /tmp
if [ "$USR9P" = 1 ]; then
  for m in MODULES; do $bb insmod /modules/$m.ko 2>/dev/null; done
  $bb mount -t 9p -o trans=virtio,version=9p2000.L,ro usr /usr || echo "RESULT-ERROR 9p mount of the host's /usr failed"
fi
/usr/bin/sh /bench/job.sh "$JOB" "$K" "$SIZE"
echo "EXIT $?"
$bb poweroff -f
"""

# /init of the smallest VM: static busybox alone (start-up, memory, density).
IDLE_INIT = r"""#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
if [ "$JOB" = idle ]; then echo ready; /bin/busybox sleep "$SIZE"; else /bin/busybox true; fi
/bin/busybox poweroff -f
"""

PY_SKIP = {
    "test",
    "idlelib",
    "tkinter",
    "turtledemo",
    "lib2to3",
    "ensurepip",
    "pydoc_data",
    "distutils",
    "site-packages",
    "config-3.11-x86_64-linux-gnu",
}

PUBLISHED = [
    ("gVisor, ptrace platform / KVM platform", "6.2 us / 0.83 us per system call", "Ant Group, 2021"),
    (
        "Graphene picoprocess start-up",
        "641 us (native Linux process 208 us; a KVM guest 3.3 s)",
        "Tsai et al., Graphene, EuroSys 2014",
    ),
    ("Firecracker microVM", "boot about 125 ms, under 5 MiB of VMM memory", "Agache et al., Firecracker, NSDI 2020"),
    ("Drawbridge library OS", "16 MB working set per application", "Porter et al., Drawbridge, ASPLOS 2011"),
]


class Failure(Exception):
    pass


def sh(*argv: str | Path, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    p = subprocess.run([str(a) for a in argv], env=env, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise Failure(f"{' '.join(map(str, argv))} exited {p.returncode}: {(p.stderr or p.stdout).strip()[-400:]}")
    return p.stdout


def parse_result(out: str) -> float:
    if m := re.search(r"RESULT-ERROR (.*)", out):
        raise Failure(m.group(1).strip())
    m = re.search(r"^RESULT (\S+)\s*$", out, re.M)
    if not m:
        raise Failure("no RESULT line: " + out.strip()[-300:])
    return float(m.group(1))


# --- memory -------------------------------------------------------------------


def children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            kids.setdefault(ppid, []).append(int(d.name))
    return kids


def tree(pid: int, kids: dict[int, list[int]] | None = None) -> list[int]:
    kids = kids if kids is not None else children_map()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += kids.get(p, [])
    return out


def pss_kb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return float(line.split()[1])
    except OSError:
        pass
    return 0.0


def tcg_buffer_kb(pid: int) -> float:
    """Pss of qemu's anonymous rwx mapping: TCG's translated code, which a KVM VM has not."""
    total, rwx = 0.0, False
    try:
        for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                f = line.split()
                rwx = f[1].startswith("rwx") and len(f) < 6
            elif rwx and line.startswith("Pss:"):
                total += float(line.split()[1])
    except OSError:
        pass
    return total


def mem_available() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return float(line.split()[1]) * 1024
    raise Failure("no MemAvailable")


def wait_ready(p: subprocess.Popen, timeout: float) -> None:
    """Read p's stdout until a line 'ready'."""
    assert p.stdout is not None
    fd = p.stdout.fileno()
    buf, end = b"", time.monotonic() + timeout
    while b"ready" not in buf:
        left = end - time.monotonic()
        if left <= 0 or p.poll() is not None:
            raise Failure(f"no 'ready' within {timeout:.0f} s: {buf.decode(errors='replace').strip()[-200:]}")
        if select.select([fd], [], [], min(left, 1.0))[0]:
            chunk = os.read(fd, 65536)
            if not chunk and p.poll() is not None:
                continue
            buf += chunk


def stop(p: subprocess.Popen) -> None:
    """End a sandbox this benchmark started (its own process group)."""
    if p.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=10)
    if p.stdout:
        p.stdout.close()


# --- contenders -----------------------------------------------------------------


class Contender:
    name = ""
    label = ""
    note = ""
    scale = 1.0  # fewer repetitions inside the driver for slow contenders

    def job(self, job: str, k: int, size: int, timeout: float = 900) -> float:
        raise NotImplementedError

    def start_true(self) -> float:
        raise NotImplementedError

    def idle(self, seconds: int) -> subprocess.Popen:
        raise NotImplementedError


class Host(Contender):
    """A contender that runs a command line on this kernel: native, bubblewrap, PRoot, motte."""

    def __init__(self, name: str, label: str, prefix: list[str], env: dict[str, str], b: str, note: str = ""):
        self.name, self.label, self.prefix, self.env, self.b, self.note = name, label, prefix, env, b, note

    def argv(self, cmd: list[str]) -> list[str]:
        return [*self.prefix, *cmd]

    def job(self, job: str, k: int, size: int, timeout: float = 900) -> float:
        return parse_result(sh(*self.argv(["sh", f"{self.b}/job.sh", job, str(k), str(size)]), env=self.env))

    def start_true(self) -> float:
        argv = self.argv(["true"])
        t0 = time.perf_counter()
        p = subprocess.run(argv, env=self.env, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        wall = time.perf_counter() - t0
        if p.returncode:
            raise Failure(f"{' '.join(argv)} exited {p.returncode}: {p.stderr.decode(errors='replace')[-300:]}")
        return wall

    def idle(self, seconds: int) -> subprocess.Popen:
        argv = self.argv(["sh", f"{self.b}/job.sh", "idle", "0", str(seconds)])
        return subprocess.Popen(
            argv,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )


@dataclass
class VMConfig:
    accel: str  # "kvm" or "tcg"
    machine: str  # "microvm" or "pc"
    kernel: Path
    release: str = ""


class VM(Contender):
    name = "vm"

    def __init__(self, cfg: VMConfig, work_initrd: Path, idle_initrd: Path):
        self.cfg, self.work_initrd, self.idle_initrd = cfg, work_initrd, idle_initrd
        self.label = f"qemu {cfg.accel.upper()} VM" if cfg.accel == "kvm" else "qemu VM (TCG)"
        self.scale = 0.2 if cfg.accel == "tcg" else 1.0
        how = "through its PVH entry (the ELF inside the bzImage)" if cfg.kernel.name == "vmlinux" else "as is"
        self.note = f"`qemu-system-x86_64 -accel {cfg.accel} -M {cfg.machine}`, the distribution's kernel {cfg.release} booted {how}"

    @staticmethod
    def argv(cfg: VMConfig, initrd: Path, append: str, mem: str, smp: int, usr9p: bool = False) -> list[str]:
        accel = ["-accel", "kvm", "-cpu", "host"] if cfg.accel == "kvm" else ["-accel", "tcg,tb-size=32"]
        argv = ["qemu-system-x86_64", "-M", cfg.machine, *accel, "-m", mem, "-smp", str(smp)]
        argv += ["-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio", "-no-reboot"]
        argv += ["-kernel", str(cfg.kernel), "-initrd", str(initrd)]
        argv += ["-append", f"console=ttyS0 quiet panic=-1 {append}"]
        if usr9p:
            dev = "virtio-9p-device" if cfg.machine == "microvm" else "virtio-9p-pci"
            argv += ["-fsdev", "local,id=usr,path=/usr,security_model=none,readonly=on"]
            argv += ["-device", f"{dev},fsdev=usr,mount_tag=usr"]
        return argv

    def job(self, job: str, k: int, size: int, timeout: float = 900) -> float:
        usr9p = job == "gcc"
        argv = self.argv(self.cfg, self.work_initrd, f"JOB={job} K={k} SIZE={size} USR9P={int(usr9p)}", "2G", 2, usr9p)
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        out = p.stdout.decode(errors="replace")
        if "EXIT 0" not in out:
            raise Failure(f"guest job {job} failed: {out.strip()[-300:]} {p.stderr.decode(errors='replace')[-200:]}")
        return parse_result(out)

    def start_true(self) -> float:
        argv = self.argv(self.cfg, self.idle_initrd, "JOB=true", "128M", 1)
        t0 = time.perf_counter()
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
        wall = time.perf_counter() - t0
        if p.returncode:
            raise Failure(f"qemu exited {p.returncode}: {p.stderr.decode(errors='replace')[-300:]}")
        return wall

    def idle(self, seconds: int) -> subprocess.Popen:
        argv = self.argv(self.cfg, self.idle_initrd, f"JOB=idle SIZE={seconds}", "128M", 1)
        return subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True
        )


# --- set-up -------------------------------------------------------------------


def ensure_packages() -> None:
    missing = {pkg for tool, pkg in NEEDED.items() if not shutil.which(tool)}
    if not Path("/bin/busybox").exists():
        missing.add("busybox-static")
    if not list(Path("/boot").glob("vmlinuz-*")):
        missing.add("linux-image-amd64")
    if not missing:
        return
    if os.geteuid() != 0:
        raise Failure(f"missing {' '.join(sorted(missing))}: run as root, or apt-get install them")
    print(f"installing {' '.join(APT)} ...", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    sh("apt-get", "update", "-q", env=env, timeout=900)
    sh("apt-get", "install", "-y", "-q", "--no-install-recommends", *APT, env=env, timeout=1800)


def ensure_matplotlib() -> bool:
    if subprocess.run([str(VENV_PY), "-c", "import matplotlib"], capture_output=True).returncode == 0:
        return True
    print("installing matplotlib into .venv (the `bench` extra) ...", flush=True)
    p = subprocess.run([str(VENV_PY), "-m", "pip", "install", "-q", "matplotlib>=3.7"], capture_output=True, text=True)
    if p.returncode:
        print(f"  matplotlib not installed, no plot: {p.stderr.strip()[-300:]}")
    return p.returncode == 0


def kernel_image() -> tuple[Path, str]:
    images = sorted(Path("/boot").glob("vmlinuz-*"), key=lambda p: [int(x) for x in re.findall(r"\d+", p.name)])
    if not images:
        raise Failure("no /boot/vmlinuz-*")
    return images[-1], images[-1].name.removeprefix("vmlinuz-")


def extract_vmlinux(bzimage: Path, out: Path) -> Path | None:
    """The uncompressed ELF kernel inside a bzImage (as the kernel's scripts/extract-vmlinux
    finds it): qemu boots it through its PVH entry, which microvm needs and which spares TCG
    the decompressor."""
    data = bzimage.read_bytes()
    for magic, decompress in [
        (b"\xfd7zXZ\x00", lambda b: lzma.LZMADecompressor().decompress(b)),
        (b"\x1f\x8b\x08\x00", lambda b: zlib.decompressobj(31).decompress(b)),
    ]:
        i = data.find(magic)
        while i >= 0:
            try:
                elf = decompress(data[i:])
            except (lzma.LZMAError, zlib.error, EOFError):
                elf = b""
            if elf.startswith(b"\x7fELF"):
                out.write_bytes(elf)
                return out
            i = data.find(magic, i + 1)
    return None


class Initramfs:
    """A root file system image: host files copied at their real paths under a
    merged-/usr layout, with the shared libraries ldd names."""

    def __init__(self, root: Path):
        self.root = root
        for d in ["usr/bin", "usr/sbin", "usr/lib", "usr/lib64", "proc", "sys", "dev", "tmp", "etc", "bench"]:
            (root / d).mkdir(parents=True, exist_ok=True)
        for link in ["bin", "sbin", "lib", "lib64"]:
            (root / link).symlink_to(f"usr/{link}")
        self.done: set[str] = set()

    def add(self, path: str | Path) -> None:
        path = os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))
        if path in self.done:
            return
        self.done.add(path)
        dst = self.root / path.lstrip("/")
        dst.parent.mkdir(parents=True, exist_ok=True)
        if os.path.islink(path):
            target = os.readlink(path)
            if not dst.exists() and not dst.is_symlink():
                dst.symlink_to(target)
            self.add(os.path.join(os.path.dirname(path), target))
        elif os.path.isdir(path):
            dst.mkdir(exist_ok=True)
        else:
            shutil.copy2(path, dst)

    def add_binary(self, path: str | Path) -> None:
        self.add(path)
        self.add_libs(path)

    def add_libs(self, path: str | Path) -> None:
        p = subprocess.run(["ldd", str(path)], capture_output=True, text=True)
        for lib in re.findall(r"(/\S+) \(0x", p.stdout):
            self.add(lib)


def write_cpio(root: Path, out: Path) -> Path:
    names = subprocess.run(["find", "."], cwd=root, capture_output=True, check=True).stdout
    with out.open("wb") as f:
        subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=root, input=names, stdout=f, check=True)
    return out


def module_order(release: str, wanted: list[str]) -> list[Path]:
    """Kernel modules and their dependencies (modules.dep), dependencies first."""
    base = Path("/lib/modules") / release
    deps: dict[str, list[str]] = {}
    for line in (base / "modules.dep").read_text().splitlines():
        mod, _, rest = line.partition(":")
        deps[mod] = rest.split()
    by_name = {Path(m).name.removesuffix(".ko"): m for m in deps}
    order: list[str] = []

    def visit(m: str) -> None:
        for d in deps.get(m, []):
            visit(d)
        if m not in order:
            order.append(m)

    for w in wanted:
        if w in by_name:
            visit(by_name[w])
    return [base / m for m in order]


def build_initramfs(work: Path, bench: Path, release: str) -> tuple[Path, Path]:
    # the smallest VM: static busybox and an /init
    idle = work / "idle-root"
    (idle / "bin").mkdir(parents=True)
    for d in ["proc", "dev", "tmp"]:
        (idle / d).mkdir()
    shutil.copy2("/bin/busybox", idle / "bin" / "busybox")
    (idle / "init").write_text(IDLE_INIT)
    (idle / "init").chmod(0o755)
    idle_cpio = write_cpio(idle, work / "idle.cpio")

    # the workload VM: the host's own binaries and libraries, python3 and most of its stdlib
    fs = Initramfs(work / "work-root")
    for b in [
        "busybox",
        "sh",
        "dash",
        "true",
        "sleep",
        "cat",
        "sort",
        "uniq",
        "tail",
        "rm",
        "cp",
        "sqlite3",
        "python3",
    ]:
        fs.add_binary(shutil.which(b, path=PATH) or f"/usr/bin/{b}")
    pylib = Path("/usr/lib/python3.11")
    shutil.copytree(
        pylib,
        fs.root / "usr/lib/python3.11",
        symlinks=True,
        ignore=lambda d, names: [n for n in names if n in PY_SKIP] if Path(d) == pylib else [],
    )
    for so in (pylib / "lib-dynload").glob("*.so"):
        fs.add_libs(so)
    if Path("/usr/lib/locale/C.utf8").is_dir():
        shutil.copytree("/usr/lib/locale/C.utf8", fs.root / "usr/lib/locale/C.utf8")
    for f in bench.iterdir():
        shutil.copy2(f, fs.root / "bench" / f.name)
    mods = module_order(release, ["virtio_mmio", "virtio_pci", "9pnet_virtio", "9p"])
    (fs.root / "modules").mkdir()
    for m in mods:
        shutil.copy2(m, fs.root / "modules" / m.name)
    init = WORK_INIT.replace("MODULES", " ".join(m.name.removesuffix(".ko") for m in mods))
    (fs.root / "init").write_text(init)
    (fs.root / "init").chmod(0o755)
    return write_cpio(fs.root, work / "work.cpio"), idle_cpio


def choose_vm(kernel: Path, release: str, vmlinux: Path | None, idle_initrd: Path) -> tuple[VMConfig | None, list[str]]:
    """KVM with microvm, else KVM with pc, else TCG (software) with pc: the first that boots."""
    tried: list[str] = []
    candidates = []
    if os.access("/dev/kvm", os.R_OK | os.W_OK):
        if vmlinux:
            candidates.append(VMConfig("kvm", "microvm", vmlinux, release))
        candidates.append(VMConfig("kvm", "pc", vmlinux or kernel, release))
    else:
        tried.append("KVM: /dev/kvm is not usable")
    candidates.append(VMConfig("tcg", "pc", vmlinux or kernel, release))
    for cfg in candidates:
        argv = VM.argv(cfg, idle_initrd, "JOB=idle SIZE=0", "128M", 1)
        timeout = 10 if cfg.accel == "kvm" else 60
        for _attempt in range(2):
            t0 = time.perf_counter()
            try:
                p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
                out = (p.stdout + p.stderr).decode(errors="replace")
                if "ready" in out and p.returncode == 0:
                    return cfg, tried
                why = out.strip().splitlines()[-1][:160] if out.strip() else f"exit {p.returncode}"
            except subprocess.TimeoutExpired as e:
                out = (e.stdout or b"").decode(errors="replace")
                why = f"no output from the guest within {timeout} s" + (" (stalled)" if "ready" not in out else "")
            tried.append(f"{cfg.accel} -M {cfg.machine}: {why} ({time.perf_counter() - t0:.0f} s)")
            if cfg.accel == "kvm":
                break  # a KVM failure is not flaky
    return None, tried


def kvm_note() -> str:
    if Path("/sys/module/kvm_pvm").exists():
        return (
            "this machine's /dev/kvm is provided by kvm_pvm (PVM, a nested hypervisor that runs guest kernels"
            " built for it); the distribution's kernel stalls under it"
        )
    return ""


# --- measurement --------------------------------------------------------------


@dataclass
class Cell:
    samples: list[float] = field(default_factory=list)
    error: str = ""
    failed: int = 0
    rounds: list[int] = field(default_factory=list)  # the round of each sample

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples else None

    @property
    def spread(self) -> float:
        """Half the range, relative to the median."""
        m = self.median
        return (max(self.samples) - min(self.samples)) / 2 / m if m and len(self.samples) > 1 else 0.0


@dataclass
class Workload:
    key: str
    title: str
    unit: str  # "ms" or "us"
    job: str | None = None
    k: int = 1
    size: int = 0
    calls: dict[str, int] = field(default_factory=dict)  # per-contender counts for the micro probes


def interleave(reps: int, contenders: list[Contender], sample: Callable[[Contender], float], cells: dict[str, Cell]):
    """`reps` rounds; each round runs every contender once, starting one further along the list."""
    for i in range(reps):
        order = contenders[i % len(contenders) :] + contenders[: i % len(contenders)]
        for c in order:
            cell = cells.setdefault(c.name, Cell())
            if cell.failed >= 2 and not cell.samples:
                continue  # it does not work here: spare the remaining rounds
            try:
                cell.samples.append(sample(c))
                cell.rounds.append(i)
            except (Failure, subprocess.TimeoutExpired, OSError, ValueError) as e:
                cell.failed += 1
                cell.error = " ".join(str(e).split())[-300:] or type(e).__name__
                print(f"\n    {c.name}: {cell.error}", end="", flush=True)


def measure_memory(c: Contender, native_kb: float | None) -> dict:
    p = c.idle(60)
    try:
        wait_ready(p, 120)
        time.sleep(1.5)
        pids = tree(p.pid)
        kb = sum(pss_kb(q) for q in pids)
        tcg = tcg_buffer_kb(p.pid) if isinstance(c, VM) and c.cfg.accel == "tcg" else 0.0
    finally:
        stop(p)
    return {"pss_mb": kb / 1024, "added_mb": (kb - (native_kb or 0)) / 1024, "procs": len(pids), "tcg_mb": tcg / 1024}


def measure_density(c: Contender, cap: int, time_cap: float) -> dict:
    """Start idle sandboxes one after another until their Pss adds up to 8 GiB, or a cap."""
    procs: list[subprocess.Popen] = []
    avail0 = mem_available()
    t_start = time.monotonic()
    last = 0.0
    reached = False

    def pss_total() -> float:
        kids = children_map()
        return sum(pss_kb(q) for p in procs for q in tree(p.pid, kids)) * 1024

    try:
        while len(procs) < cap and time.monotonic() - t_start < time_cap:
            t0 = time.perf_counter()
            p = c.idle(3600)
            procs.append(p)
            wait_ready(p, 180)
            last = time.perf_counter() - t0
            if (isinstance(c, VM) or len(procs) % 10 == 0) and pss_total() >= BUDGET:
                reached = True
                break
        time.sleep(2)
        drop = avail0 - mem_available()
        pss = pss_total()
    finally:
        for p in procs:
            stop(p)
    n = len(procs)
    return {
        "started": n,
        "last_start_s": last,
        "drop_per_mb": max(drop, 0.0) / n / MB,
        "pss_per_mb": pss / n / MB,
        "reached": reached,
        "why_stopped": "8 GiB reached" if reached else (f"cap of {cap}" if n >= cap else f"time cap {time_cap:.0f} s"),
    }


def density_of(d: dict) -> tuple[int, bool]:
    """Idle sandboxes in 8 GiB by Pss: as started when 8 GiB was reached, else extrapolated."""
    if d.get("reached"):
        return d["started"], False
    return int(BUDGET / MB / d["pss_per_mb"]), True


def trace_counts(b_host: Path, env: dict[str, str], wl: Workload, k: int) -> tuple[int, list[tuple[str, int, float]]]:
    """motte --trace of one job (K=k, preparation included): calls by name, with their total time."""
    with tempfile.NamedTemporaryFile(prefix="motte-trace-", suffix=".txt", delete=False) as f:
        path = Path(f.name)
    try:
        sh(
            MOTTE,
            "run",
            "--trace",
            path,
            "--mount",
            f"{b_host}:/bench:ro",
            "--",
            "sh",
            "/bench/job.sh",
            wl.job or "",
            str(k),
            str(wl.size),
            env=env,
        )
        n: Counter[str] = Counter()
        us: Counter[str] = Counter()
        for line in path.read_text(errors="replace").splitlines():
            if m := re.match(r"\[\d+\] (\w+)\(.*<([\d.]+)us>\s*$", line):
                n[m.group(1)] += 1
                us[m.group(1)] += float(m.group(2))
        return sum(n.values()), [(name, cnt, us[name] / 1000) for name, cnt in n.most_common(6)]
    finally:
        path.unlink(missing_ok=True)


def profile_top(b_host: Path, env: dict[str, str], wl: Workload) -> list[str]:
    """MOTTE_PROFILE (cProfile of the library OS's thread) of one job: the functions with most own time."""
    with tempfile.NamedTemporaryFile(prefix="motte-prof-", suffix=".prof", delete=False) as f:
        path = Path(f.name)
    try:
        sh(
            MOTTE,
            "run",
            "--mount",
            f"{b_host}:/bench:ro",
            "--",
            "sh",
            "/bench/job.sh",
            wl.job or "",
            "1",
            str(wl.size),
            env=env | {"MOTTE_PROFILE": str(path)},
        )
        st = pstats.Stats(str(path))
        stats = st.stats  # type: ignore[attr-defined]
        # RECV blocks in the kernel until the next trapped call: that time is waiting, not work.
        recv = [f for f in stats if f[2] == "recv" and "seccomp" in f[0]]
        waiting = sum(stats[f][3] for f in recv)
        own = {}
        for f, (_cc, nc, tt, _ct, callers) in stats.items():
            if f in recv:
                continue
            from_recv = sum(callers[r][2] for r in recv if r in callers)
            own[f] = (nc, tt - from_recv)
        total = sum(stats[f][2] for f in stats) - waiting
        rows = [
            f"{total * 1000:.0f} ms of work in the library OS's thread ({waiting * 1000:.0f} ms more waiting in RECV)"
        ]
        for (file, line, fn), (nc, tt) in sorted(own.items(), key=lambda kv: -kv[1][1])[:8]:
            where = f"{Path(file).parent.name}/{Path(file).name}:{line}" if line else "builtin"
            rows.append(f"{tt * 1000:7.1f} ms {tt / total * 100:5.1f}% {nc:6d} calls  {fn}  ({where})")
        return rows
    finally:
        path.unlink(missing_ok=True)


def versions() -> dict[str, str]:
    def pkg(name: str) -> str:
        p = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", name], capture_output=True, text=True)
        return p.stdout.strip() or "?"

    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "host kernel": platform.release(),
        "CPU": f"{cpu}, {os.cpu_count()} CPUs, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / (1 << 30):.0f} GiB",
        "bubblewrap": pkg("bubblewrap"),
        "proot": pkg("proot"),
        "qemu": pkg("qemu-system-x86"),
        "guest kernel": f"{kernel_image()[1]} ({pkg('linux-image-amd64')})",
        "python3": subprocess.run(["/usr/bin/python3", "--version"], capture_output=True, text=True).stdout.strip(),
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
    }


# --- the run ------------------------------------------------------------------


def run_all(quick: bool) -> dict:
    t_all = time.perf_counter()
    ensure_packages()
    if not MOTTE.exists():
        raise Failure(f"needs {MOTTE} (run ./setup)")
    reps = 3 if quick else 9
    work = Path(tempfile.mkdtemp(prefix="motte-compare-", dir="/var/tmp"))  # not under /tmp: bwrap hides that
    scratch = Path(tempfile.mkdtemp(prefix="motte-compare-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
    pycache = work / "pyc"
    bench = work / "bench"
    bench.mkdir()
    try:
        for name, src in [("timeit", TIMEIT_C), ("probe", PROBE_C), ("gendata", GENDATA_C)]:
            (work / f"{name}.c").write_text(src)
            sh("gcc", "-O2", "-o", bench / name, work / f"{name}.c")
        (bench / "data").write_bytes(os.urandom(64 * 1024))
        (bench / "work.sql").write_text(sqlite_sql())
        (bench / "gen.c").write_text(gen_c())
        (bench / "job.sh").write_text(JOB_SH)
        for p in [work, bench, *bench.iterdir()]:
            p.chmod(p.stat().st_mode | 0o755 if p.is_dir() or os.access(p, os.X_OK) else 0o644)
        pycache.mkdir()

        print("building the VM's initramfs ...", flush=True)
        kernel, release = kernel_image()
        vmlinux = extract_vmlinux(kernel, work / "vmlinux")
        work_initrd, idle_initrd = build_initramfs(work, bench, release)
        print("choosing the VM (KVM if the distribution kernel boots under it) ...", flush=True)
        cfg, tried = choose_vm(kernel, release, vmlinux, idle_initrd)
        for t in tried:
            print(f"  {t}")

        b = str(bench)
        nat_env = NATIVE_ENV | {"B": b, "T": str(scratch)}
        m_env = motte_env(pycache)
        contenders: list[Contender] = [
            Host("native", "native", [], nat_env, b),
            Host(
                "bwrap",
                "bubblewrap",
                ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
                + ["--unshare-all", "--die-with-parent"],
                NATIVE_ENV | {"B": b, "T": "/tmp"},
                b,
            ),
            Host("proot", "PRoot", ["proot", "-r", "/"], nat_env, b),
        ]
        vm = VM(cfg, work_initrd, idle_initrd) if cfg else None
        if vm:
            contenders.append(vm)
        mount = ["--mount", f"{b}:/bench:ro", "--"]
        contenders.append(Host("motte", "motte", [str(MOTTE), "run", *mount], m_env, "/bench"))
        # the same on every CPU (motte's default puts the library OS and the sandbox on one)
        contenders.append(
            Host("motte_all", "motte --cpus all", [str(MOTTE), "run", "--cpus", "all", *mount], m_env, "/bench")
        )
        sh(MOTTE, "run", "--", "true", env=m_env)  # motte's bytecode cache
        names = [c.name for c in contenders] + ([] if vm else ["vm"])

        quick_size = 10 if quick else 50
        slow_stat = 2_000 if quick else 10_000
        workloads = [
            Workload("startup", "start-up + tear-down: `true`", "ms"),
            Workload("py_pass", "`python3 -c pass`", "ms", "py_pass", 10),
            Workload("py_import", "`python3 -c 'import json, sqlite3, email, http.client'`", "ms", "py_import", 5),
            Workload(
                "stat",
                "trapped call: stat()",
                "us",
                "stat",
                calls={
                    "native": 200_000,
                    "bwrap": 200_000,
                    "proot": slow_stat,
                    "vm": 20_000,
                    "motte": slow_stat,
                    "motte_all": slow_stat,
                },
            ),
            Workload(
                "pread",
                "ABI call: read 4 KiB (pread)",
                "us",
                "pread",
                calls={
                    "native": 200_000,
                    "bwrap": 200_000,
                    "proot": slow_stat,
                    "vm": 50_000,
                    "motte": 200_000,
                    "motte_all": 200_000,
                },
            ),
            Workload("sqlite", "sqlite3 shell: 10k inserts + indexed query", "ms", "sqlite", 3),
            Workload("gcc", "gcc: compile + link 200-line C", "ms", "gcc", 3),
            Workload("pipeline", f"`cat|sort|uniq -c|sort -n|tail`, {quick_size} MB", "ms", "pipeline", 1, quick_size),
        ]
        cells: dict[str, dict[str, Cell]] = {}
        for wl in workloads:
            print(f"  {wl.key} ...", end="", flush=True)
            t0 = time.perf_counter()
            cells[wl.key] = {}
            if wl.job is None:

                def sample(c: Contender) -> float:
                    return c.start_true() * 1e3

                interleave(reps + 2, contenders, sample, cells[wl.key])
            else:

                def sample(c: Contender, wl: Workload = wl) -> float:
                    if wl.calls:
                        return c.job(wl.job or "", wl.calls[c.name], wl.size) / 1e3  # ns per call -> us
                    k = max(1, round(wl.k * c.scale))
                    return c.job(wl.job or "", k, wl.size) / 1e6  # ns per run -> ms

                interleave(reps, contenders, sample, cells[wl.key])
            print(f" {time.perf_counter() - t0:.0f} s", flush=True)
        if not vm:
            for wl in workloads:
                cells[wl.key]["vm"] = Cell(error="no VM configuration boots here", failed=1)

        print("  memory ...", end="", flush=True)
        memory: dict[str, dict] = {}
        native_kb = None
        for c in contenders:
            if c.name == "motte_all":
                continue  # the same memory as motte's
            try:
                memory[c.name] = measure_memory(c, native_kb)
                if c.name == "native":
                    native_kb = memory[c.name]["pss_mb"] * 1024
                    memory[c.name]["added_mb"] = 0.0
            except (Failure, OSError) as e:
                memory[c.name] = {"error": str(e)[:200]}
        print(" done", flush=True)

        print("  density ...", end="", flush=True)
        density: dict[str, dict] = {}
        caps = {"vm": (6, 60) if quick else (64, 420)}
        for c in contenders[1:]:
            if c.name == "motte_all":
                continue
            cap, time_cap = caps.get(c.name, (30, 40) if quick else (300, 240))
            try:
                density[c.name] = measure_density(c, cap, time_cap)
            except (Failure, OSError) as e:
                density[c.name] = {"error": str(e)[:200]}
            print(f" {c.name}", end="", flush=True)
        print(flush=True)

        print("  motte traces and profiles ...", flush=True)
        traces: dict[str, tuple[int, list]] = {}
        for wl in workloads[1:]:
            k = 1 if not wl.calls else 1000
            try:
                traces[wl.key] = trace_counts(bench, m_env, wl, k)
            except Failure as e:
                traces[wl.key] = (0, [("failed: " + str(e)[:100], 0, 0.0)])
        profiles = {}
        for key in ["gcc", "py_import"]:
            try:
                profiles[key] = profile_top(bench, m_env, next(w for w in workloads if w.key == key))
            except (Failure, OSError) as e:
                profiles[key] = [f"failed: {e}"]
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)

    return {
        "quick": quick,
        "reps": reps,
        "seconds": time.perf_counter() - t_all,
        "contenders": names,
        "labels": {c.name: c.label for c in contenders} | ({} if vm else {"vm": "qemu VM"}),
        "vm_note": (vm.note if vm else "no VM configuration booted"),
        "vm_tried": tried,
        "kvm_note": kvm_note(),
        "workloads": [(w.key, w.title, w.unit) for w in workloads],
        "cells": {
            w: {c: (cell.samples, cell.error, cell.failed, cell.rounds) for c, cell in cs.items()}
            for w, cs in cells.items()
        },
        "memory": memory,
        "density": density,
        "traces": traces,
        "profiles": profiles,
        "versions": versions(),
    }


# --- report -------------------------------------------------------------------


def samples_of(res: dict, w: str, c: str) -> dict[int, float]:
    """A cell's samples by round."""
    v = res["cells"][w].get(c, ([], "not run", 0))
    rounds = v[3] if len(v) > 3 else range(len(v[0]))
    return dict(zip(rounds, v[0], strict=True))


def med(res: dict, w: str, c: str) -> float | None:
    samples = list(samples_of(res, w, c).values())
    return statistics.median(samples) if samples else None


def paired(res: dict, w: str, a: str, b: str) -> float | None:
    """a's time relative to b's: the median over rounds of a/b within a round (the two ran back
    to back, so load from elsewhere on the machine hits both alike); the ratio of the medians
    when they share no round."""
    sa, sb = samples_of(res, w, a), samples_of(res, w, b)
    pairs = [sa[r] / sb[r] for r in sa if r in sb and sb[r]]
    if pairs:
        return statistics.median(pairs)
    ma, mb = med(res, w, a), med(res, w, b)
    return ma / mb if ma is not None and mb else None


def rel(res: dict, w: str, c: str) -> float | None:
    return paired(res, w, c, "native")


def fmt(v: float, unit: str) -> str:
    if unit == "ms" and v >= 1000:
        return f"{v / 1000:.3g} s"
    return f"{v:.3g} {unit}"


def cell_text(res: dict, w: str, unit: str, c: str) -> str:
    samples, err, failed = res["cells"][w].get(c, ([], "not run", 0))[:3]
    err = err.replace("|", "\\|")
    if not samples:
        return f"not measured: {err}" if err else "-"
    cell = Cell(samples)
    m = cell.median or 0.0
    absolute = f"{fmt(m, unit)} ±{cell.spread * 100:.0f}%"
    if failed:
        absolute += f"; {failed} more run(s) failed: {err[-120:]}"
    if c == "native":
        return absolute
    r = rel(res, w, c)
    return f"**{r:.3g}x** ({absolute})" if r else absolute


def goals(res: dict) -> list[tuple[str, str, str]]:
    """(goal, measured, verdict)."""
    out = []
    vm_label = res["labels"].get("vm", "VM")

    ms, mp, mv = med(res, "startup", "motte"), med(res, "startup", "proot"), med(res, "startup", "vm")
    tcg = " (against software emulation: no KVM guest boots here)" if "TCG" in vm_label else ""
    r = paired(res, "startup", "vm", "motte")
    out.append(
        (
            f"start-up: motte >= 10x faster than the {vm_label}",
            "-" if r is None else f"{vm_label} {fmt(mv or 0, 'ms')} vs motte {fmt(ms or 0, 'ms')}: {r:.1f}x",
            "-" if r is None else ("met" if r >= 10 else f"MISSED by {10 / r:.1f}x") + tcg,
        )
    )
    r = paired(res, "startup", "motte", "proot")
    out.append(
        (
            "start-up: motte at least as fast as PRoot",
            "-" if r is None else f"motte {fmt(ms or 0, 'ms')} vs PRoot {fmt(mp or 0, 'ms')} ({r:.1f}x PRoot's time)",
            "-" if r is None else ("met" if r <= 1 else f"MISSED: {r:.1f}x slower"),
        )
    )
    mem = res["memory"]
    am, av = mem.get("motte", {}).get("added_mb"), mem.get("vm", {}).get("added_mb")
    if am is not None and av is not None:
        kvm_like = av - mem["vm"].get("tcg_mb", 0.0)
        r = am / kvm_like if kvm_like else None
        out.append(
            (
                "memory: motte's added Pss < 1/4 of the VM's",
                f"motte {am:.1f} MB vs VM {av:.1f} MB ({kvm_like:.1f} MB without TCG's code cache): {r:.2f}",
                "met" if r is not None and r < 0.25 else f"MISSED ({r:.2f} of the VM's)",
            )
        )
    else:
        out.append(("memory: motte's added Pss < 1/4 of the VM's", "-", "not measured"))
    dd = res["density"]
    dm = density_of(dd["motte"])[0] if "pss_per_mb" in dd.get("motte", {}) else None
    dv = density_of(dd["vm"])[0] if "pss_per_mb" in dd.get("vm", {}) else None
    if dm and dv:
        tcg_mb = mem.get("vm", {}).get("tcg_mb", 0.0)
        per_vm = dd["vm"]["pss_per_mb"] - tcg_mb
        dk = int(BUDGET / MB / per_vm) if tcg_mb and per_vm > 0 else dv
        r = dm / dk
        out.append(
            (
                "density: motte >= 4x the VM's",
                f"motte {dm} vs VM {dv} in 8 GiB"
                + (f" ({dk} without TCG's code cache)" if dk != dv else "")
                + f": {r:.1f}x",
                "met" if r >= 4 else f"MISSED ({r:.1f}x)",
            )
        )
    else:
        out.append(("density: motte >= 4x the VM's", "-", "not measured"))
    for w, what in [("sqlite", "sqlite3"), ("pipeline", "the pipeline")]:
        r = rel(res, w, "motte")
        out.append(
            (
                f"{what} within 1.2x of native",
                "-" if r is None else f"{r:.2f}x",
                "-" if r is None else ("met" if r <= 1.2 else f"MISSED by {(r / 1.2 - 1) * 100:.0f}%"),
            )
        )
    for w, what in [("py_pass", "python3 -c pass"), ("py_import", "python3 imports"), ("gcc", "gcc")]:
        a, b = med(res, w, "motte"), med(res, w, "proot")
        r = paired(res, w, "motte", "proot")
        out.append(
            (
                f"{what}: motte ahead of PRoot",
                "-" if r is None else f"motte {fmt(a or 0, 'ms')} vs PRoot {fmt(b or 0, 'ms')} ({r:.2f}x)",
                "-" if r is None else ("met" if r < 1 else f"MISSED: {r:.2f}x PRoot's time"),
            )
        )
    return out


ANALYSIS_MARK = "## What the numbers say"


def kept_analysis(path: Path) -> str:
    if not path.exists():
        return ""
    _, mark, rest = path.read_text().partition(ANALYSIS_MARK)
    return rest.split("\n## Published figures", 1)[0] if mark else ""


def md_escape(text: str) -> str:
    """A table cell's text: a | (in code spans too) would end the cell."""
    return text.replace("|", "\\|")


def markdown(res: dict, analysis: str) -> str:
    names, labels = res["contenders"], res["labels"]
    how = f"{'--quick' if res['quick'] else 'full'} run, {res['reps']} interleaved runs per cell (start-up {res['reps'] + 2}), medians, {res['seconds'] / 60:.0f} min"
    L = ["# motte side by side with the alternatives", ""]
    L += [
        f"Generated by `python bench/compare.py` ({how}). Each cell: **time relative to native** (the median over rounds of"
        " the ratio to native's run in the same round: a round runs every contender back to back), then the median time,"
        " ± half the range of the runs."
    ]
    L += [
        "Workloads other than start-up are timed inside an already running sandbox or VM, so start-up counts once, in its own row.",
        "",
    ]
    L += ["![time relative to native, log scale](img/compare.png)", ""]
    L += ["| workload | " + " | ".join(labels.get(n, n) for n in names) + " |", "|---" * (len(names) + 1) + "|"]
    for key, title, unit in res["workloads"]:
        L.append(f"| {md_escape(title)} | " + " | ".join(cell_text(res, key, unit, n) for n in names) + " |")
    L += ["", "### Memory and density", ""]
    L += [
        "Idle sandbox running `sleep 60`: proportional set size (Pss) of all its processes (for the VM: qemu's),",
        "and what it adds to a native `sleep 60`. Density: idle sandboxes started one after another until their Pss",
        "adds up to 8 GiB, or a cap (then extrapolated from the Pss per sandbox at the cap), with the start time of the",
        "last one. The drop of the host's MemAvailable, which counts kernel memory too, is shown beside it: other",
        "activity on the machine moves it.",
        "",
    ]
    L += [
        "| contender | Pss | added | density in 8 GiB | started | last start | per sandbox at that count: Pss / MemAvailable drop |"
    ]
    L += ["|---|---|---|---|---|---|---|"]
    for n in names:
        m, d = res["memory"].get(n, {}), res["density"].get(n, {})
        if not m and not d:
            continue
        if "pss_mb" in m:
            pss = f"{m['pss_mb']:.1f} MB" + (f" (TCG code cache {m['tcg_mb']:.0f} MB)" if m.get("tcg_mb") else "")
            added = f"{m['added_mb']:.1f} MB"
        else:
            pss, added = m.get("error", "-"), "-"
        if "pss_per_mb" in d:
            count, extrapolated = density_of(d)
            dens = f"{count}" + (f" (extrapolated: stopped at the {d['why_stopped']})" if extrapolated else "")
            row = [
                dens,
                str(d["started"]),
                fmt(d["last_start_s"] * 1e3, "ms"),
                f"{d['pss_per_mb']:.1f} MB / {d['drop_per_mb']:.1f} MB",
            ]
        else:
            row = [d.get("error", "-"), "-", "-", "-"]
        L.append(f"| {labels.get(n, n)} | {pss} | {added} | " + " | ".join(row) + " |")
    L += ["", "### Goals", "", "| goal | measured | verdict |", "|---|---|---|"]
    L += [f"| {g} | {m} | {v} |" for g, m, v in goals(res)]
    L += ["", "### How each contender runs", ""]
    L += ["- native: the workload's job script (`sh job.sh JOB K`) as is, scratch files on /dev/shm."]
    L += ["- bubblewrap: `bwrap --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp --unshare-all --die-with-parent`."]
    L += ["- PRoot: `proot -r /` (ptrace, with its seccomp acceleration), scratch on /dev/shm."]
    L += [
        f"- VM: {res['vm_note']}; the guest's root is an initramfs built by the benchmark (static busybox, the host's"
    ]
    L += [
        "  own dash, coreutils, sqlite3, python3 and its stdlib, with their libraries found by ldd); gcc runs from the host's"
    ]
    L += [
        "  /usr shared read-only through virtio-9p. Start-up, memory and density use the smallest guest (busybox alone,"
    ]
    L += ["  128 MiB); the workloads a 2-vCPU, 2 GiB guest. Start-up is qemu's start to its exit after `poweroff -f`."]
    if res["vm_tried"]:
        L += ["  Tried first: " + "; ".join(res["vm_tried"]) + "."]
    if res["kvm_note"]:
        L += [f"  Note: {res['kvm_note']}."]
    L += [
        "- motte: `motte run --mount BENCH:/bench:ro --` with its defaults (`limits.cpus = auto`: the library OS and the"
    ]
    L += [
        "  whole sandbox on one CPU, chosen as motte's pid modulo the CPU count); motte --cpus all: the same on every CPU."
    ]
    L += ["", "### Trapped calls (`motte run --trace`, one job with K=1, preparation included)", ""]
    L += ["| workload | trapped calls | top calls (count, total time in the trace) |", "|---|---|---|"]
    for key, title, _ in res["workloads"][1:]:
        total, top = res["traces"].get(key, (0, []))
        L.append(f"| {md_escape(title)} | {total} | " + ", ".join(f"{n} {c} ({t:.0f} ms)" for n, c, t in top) + " |")
    for key, rows in res["profiles"].items():
        L += ["", f"### Library OS profile (`MOTTE_PROFILE`), {key} job, K=1", "", "```", *rows, "```"]
    L += ["", "### Machine", ""] + [f"- {k}: {v}" for k, v in res["versions"].items()]
    L += ["", ANALYSIS_MARK + (analysis.rstrip() if analysis.strip() else "\n\n_(not written yet)_"), ""]
    L += ["## Published figures (not measured here)", ""]
    L += ["Kept apart from the table above: other papers' machines, kernels and methods.", ""]
    L += [f"- {what}: {fig} ({src})." for what, fig, src in PUBLISHED]
    return "\n".join(L) + "\n"


PLOT_PY = r"""
import json, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
d = json.load(sys.stdin)
groups, series = d["groups"], d["series"]
fig, ax = plt.subplots(figsize=(12, 5.5), dpi=100)
w = 0.8 / max(1, len(series))
for i, (label, vals) in enumerate(series):
    xs = [g + (i - (len(series) - 1) / 2) * w for g in range(len(groups))]
    bars = ax.bar([x for x, v in zip(xs, vals) if v], [v for v in vals if v], w, label=label)
    ax.bar_label(bars, fmt="%.3g", fontsize=7, padding=1)
ax.set_yscale("log")
ax.axhline(1, color="black", linewidth=0.8)
ax.set_xticks(range(len(groups)))
ax.set_xticklabels(groups, fontsize=9)
ax.set_ylabel("time relative to native (log scale)")
ax.set_title(d["title"])
ax.legend(fontsize=9)
ax.grid(axis="y", which="both", alpha=0.3)
fig.tight_layout()
fig.savefig(d["out"])
"""

SHORT = {
    "startup": "start-up",
    "py_pass": "python -c pass",
    "py_import": "python imports",
    "stat": "stat()",
    "pread": "read 4 KiB",
    "sqlite": "sqlite3",
    "gcc": "gcc",
    "pipeline": "pipeline",
}


def plot(res: dict, out: Path) -> bool:
    if not ensure_matplotlib():
        return False
    series = [
        (res["labels"].get(n, n), [rel(res, key, n) for key, _, _ in res["workloads"]])
        for n in res["contenders"]
        if n != "native"
    ]
    data = {
        "groups": [SHORT.get(k, k) for k, _, _ in res["workloads"]],
        "series": series,
        "title": "motte and the alternatives: time relative to native (lower is better)",
        "out": str(out),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    p = subprocess.run([str(VENV_PY), "-c", PLOT_PY], input=json.dumps(data), text=True, capture_output=True)
    if p.returncode:
        print(f"plot failed: {p.stderr.strip()[-400:]}")
    return p.returncode == 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer runs and smaller sizes (under 5 minutes)")
    ap.add_argument("--out", type=Path, default=OUT_MD)
    ap.add_argument("--json", type=Path, help="also keep the raw results here")
    ap.add_argument("--from-json", type=Path, help="only write the report from raw results kept earlier")
    args = ap.parse_args()
    if args.from_json:
        res = json.loads(args.from_json.read_text())
    else:
        try:
            res = run_all(args.quick)
        except Failure as e:
            print(f"\ncompare: {e}", file=sys.stderr)
            return 1
    if args.json:
        args.json.write_text(json.dumps(res, indent=1))
    plot(res, args.out.parent / "img" / "compare.png")
    args.out.write_text(markdown(res, kept_analysis(args.out)))
    print()
    for g, m, v in goals(res):
        print(f"{v:>24}  {g}: {m}")
    print(f"\nwrote {args.out} and {args.out.parent / 'img' / 'compare.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
