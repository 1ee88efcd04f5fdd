"""motte benchmark: each workload natively and inside `motte run`, interleaved.

    python bench/run.py [--quick]

Prints a table and writes docs/benchmarks.md. Stdlib only; needs gcc.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
MOTTE = ROOT / ".venv" / "bin" / "motte"
PY = "/usr/bin/python3"  # the python the sandbox sees; pyenv's python3 comes first on PATH
BOX = "/bench"  # where the benchmark's temp dir is mounted (read-only) in the sandbox
# Native programs get the environment motte gives the sandbox (not pyenv's PATH).
NATIVE_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "HOME": "/tmp"}

PROBE_C = r"""
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv) {  /* probe stat|pread PATH N: prints ns per call */
    if (argc != 4) return 2;
    long n = atol(argv[3]), warm = n / 10 + 1;
    struct stat st;
    char buf[4096];
    int fd = open(argv[2], O_RDONLY);
    if (fd < 0) { perror("open"); return 1; }
    int is_stat = strcmp(argv[1], "stat") == 0;
    double t0 = 0;
    for (long i = -warm; i < n; i++) {
        if (i == 0) t0 = now();
        long r = is_stat ? stat(argv[2], &st) : pread(fd, buf, sizeof buf, 0);
        if (r < 0 || (!is_stat && r != sizeof buf)) { perror(argv[1]); return 1; }
    }
    printf("%.1f\n", (now() - t0) / n);
    return 0;
}
"""

SQLITE_PY = """
import os, sqlite3, sys
path = sys.argv[1]
if os.path.exists(path):
    os.unlink(path)
db = sqlite3.connect(path)
db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER, v TEXT)")
db.execute("CREATE INDEX t_k ON t (k)")
with db:
    db.executemany("INSERT INTO t (k, v) VALUES (?, ?)", ((i * 7919 % 10007, f"value {i}") for i in range(10000)))
n = db.execute("SELECT count(*), sum(length(v)) FROM t WHERE k BETWEEN 1000 AND 2000").fetchone()
db.close()
os.unlink(path)
print(n[0])
"""


def gen_c(lines: int = 200) -> str:
    """A C file of about `lines` lines: small functions and a main that calls them."""
    funcs = (lines - 6) // 6
    out = ["#include <stdio.h>", ""]
    for i in range(funcs):
        out += [
            f"static int f{i}(int x) {{",
            f"    int y = x * {i + 3} + {i};",
            "    for (int j = 0; j < 3; j++) y ^= y >> 1;",
            "    return y;",
            "}",
            "",
        ]
    out += ["int main(void) {", "    int s = 0;"]
    out += [f"    s += f{i}(s);" for i in range(funcs)]
    out += ['    printf("%d\\n", s);', "    return 0;", "}"]
    return "\n".join(out) + "\n"


@dataclass
class Result:
    name: str
    unit: str
    native: float | None
    motte: float | None
    kind: str  # "ratio", "overhead" (motte - native) or "absolute" (motte alone)
    target: float | None  # upper bound on the compared figure
    note: str = ""

    @property
    def figure(self) -> float | None:
        if self.motte is None:
            return None
        if self.kind == "absolute":
            return self.motte
        if self.native is None:
            return None
        return self.motte / self.native if self.kind == "ratio" else self.motte - self.native

    @property
    def met(self) -> str:
        if self.figure is None:
            return "FAILED"
        if self.target is None:
            return "-"
        return "yes" if self.figure < self.target else "NO"

    def cells(self) -> list[str]:
        fig = self.figure
        suffix = {"ratio": "x", "overhead": f" {self.unit}", "absolute": f" {self.unit}"}[self.kind]
        sign = "+" if self.kind == "overhead" else ""
        label = {"ratio": "ratio", "overhead": "overhead", "absolute": "value"}[self.kind]
        target = "-" if self.target is None else f"< {self.target:g}{suffix}"
        return [
            self.name,
            _fmt(self.native, self.unit),
            _fmt(self.motte, self.unit),
            "-" if fig is None else f"{label} {sign}{fig:.3g}{suffix}",
            target,
            self.met,
        ]


def _fmt(v: float | None, unit: str) -> str:
    return "-" if v is None else f"{v:.3g} {unit}"


class Failure(Exception):
    pass


class Cmd(NamedTuple):
    argv: list[str]
    env: dict[str, str]


def native(*argv: str | Path | int) -> Cmd:
    return Cmd([str(a) for a in argv], NATIVE_ENV)


def motte_env(pycache: Path) -> dict[str, str]:
    """Environment of motte's own interpreter, its bytecode cached in `pycache` (never under src/)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return env | {"PYTHONPYCACHEPREFIX": str(pycache)}


def bytecode_note() -> str:
    """How motte's own bytecode is cached when run in the host environment as is."""
    if os.environ.get("PYTHONPYCACHEPREFIX"):
        return "bytecode under PYTHONPYCACHEPREFIX"
    cached = (ROOT / "src" / "motte" / "__pycache__").is_dir()
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        return "PYTHONDONTWRITEBYTECODE set, " + (
            "src/ has __pycache__" if cached else "no __pycache__: motte compiled on every start"
        )
    return "bytecode cached in src/"


def motte(env: dict[str, str], *argv: str, mount: Path | None = None) -> Cmd:
    cmd = [str(MOTTE), "run"]
    if mount is not None:
        cmd += ["--mount", f"{mount}:{BOX}:ro"]
    return Cmd([*cmd, "--", *argv], env)


def run_cmd(cmd: Cmd, timeout: float = 60) -> tuple[float, str]:
    """Run cmd; return (wall seconds, stdout). Raises Failure on a non-zero exit."""
    t0 = time.perf_counter()
    p = subprocess.run(cmd.argv, env=cmd.env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise Failure(f"{' '.join(cmd.argv)} exited {p.returncode}: {(p.stderr or p.stdout).strip()[-300:]}")
    return wall, p.stdout


def interleaved(reps: int, native: Callable[[], float], boxed: Callable[[], float]) -> tuple[float, float]:
    """Median of `reps` samples of each, alternating which goes first."""
    ns: list[float] = []
    ms: list[float] = []
    for i in range(reps):
        pair = [(native, ns), (boxed, ms)]
        for fn, acc in pair if i % 2 == 0 else pair[::-1]:
            acc.append(fn())
    return statistics.median(ns), statistics.median(ms)


def wall_of(cmd: Cmd) -> Callable[[], float]:
    return lambda: run_cmd(cmd)[0]


def ns_of(cmd: Cmd) -> Callable[[], float]:
    return lambda: float(run_cmd(cmd)[1].split()[-1])


def measure(name: str, fn: Callable[[], Result], results: list[Result]) -> None:
    print(f"  {name} ...", end="", flush=True)
    t0 = time.perf_counter()
    try:
        r = fn()
    except (Failure, subprocess.TimeoutExpired, ValueError, OSError) as e:
        print(f" failed: {e}")
        r = Result(name, "", None, None, "ratio", None, f"failed: {e}")
    else:
        print(f" {time.perf_counter() - t0:.1f}s")
    results.append(r)


def library_os_memory(env: dict[str, str], reps: int) -> tuple[float, float]:
    """Median over runs of the peak VmRSS and Pss (MB) of the motte process while `sleep 5` runs."""
    rss: list[float] = []
    pss: list[float] = []
    for _ in range(reps):
        cmd = motte(env, "sleep", "5")
        p = subprocess.Popen(cmd.argv, env=cmd.env, stdin=subprocess.DEVNULL)
        peak_rss = peak_pss = 0.0
        try:
            time.sleep(1.0)
            for _ in range(5):
                peak_rss = max(peak_rss, _proc_kb(p.pid, "status", "VmRSS:") / 1024)
                peak_pss = max(peak_pss, _proc_kb(p.pid, "smaps_rollup", "Pss:") / 1024)
                time.sleep(0.5)
        finally:
            if p.wait(timeout=30) != 0:
                raise Failure(f"motte run -- sleep 5 exited {p.returncode}")
        rss.append(peak_rss)
        pss.append(peak_pss)
    return statistics.median(rss), statistics.median(pss)


def _proc_kb(pid: int, file: str, key: str) -> float:
    for line in Path(f"/proc/{pid}/{file}").read_text().splitlines():
        if line.startswith(key):
            return float(line.split()[1])
    raise Failure(f"no {key} in /proc/{pid}/{file}")


def machine() -> dict[str, str]:
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    return {
        "kernel (uname -r)": platform.release(),
        "CPU": cpu,
        "nproc": str(os.cpu_count()),
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "python in the sandbox": subprocess.run([PY, "--version"], capture_output=True, text=True).stdout.strip(),
    }


def run_all(quick: bool) -> tuple[list[Result], str]:
    reps = 11 if quick else 41
    host = Path(tempfile.mkdtemp(prefix="motte-bench-"))
    # The sandbox's /tmp is a tmpfs; give native runs a tmpfs scratch too when there is one.
    shm = Path("/dev/shm")
    scratch = Path(tempfile.mkdtemp(prefix="motte-bench-", dir=shm if shm.is_dir() else None))
    pycache = host.with_name(host.name + "-pyc")
    as_is, warm = dict(os.environ), motte_env(pycache)
    results: list[Result] = []
    try:
        (host / "probe.c").write_text(PROBE_C)
        run_cmd(native("gcc", "-O2", "-o", host / "probe", host / "probe.c"))
        (host / "data").write_bytes(os.urandom(64 * 1024))
        (host / "sqlite_work.py").write_text(SQLITE_PY)
        (host / "gen.c").write_text(gen_c())
        os.chmod(host, 0o755)
        pycache.mkdir()
        run_cmd(motte(warm, "true"))  # fills the bytecode cache

        def probe(mode: str, n_native: int, n_motte: int) -> tuple[float, float]:
            nat = ns_of(native(host / "probe", mode, host / "data", n_native))
            box = ns_of(motte(warm, f"{BOX}/probe", mode, f"{BOX}/data", str(n_motte), mount=host))
            return interleaved(reps, nat, box)

        def startup() -> Result:
            n, m = interleaved(reps * 2, wall_of(native("/bin/true")), wall_of(motte(warm, "true")))
            return Result("start-up: `true`", "ms", n * 1e3, m * 1e3, "overhead", 100, "motte's bytecode cached")

        def startup_as_is() -> Result:
            n, m = interleaved(reps, wall_of(native("/bin/true")), wall_of(motte(as_is, "true")))
            return Result("start-up: `true`, host env as is", "ms", n * 1e3, m * 1e3, "overhead", 100, bytecode_note())

        def stat_call() -> Result:
            n, m = probe("stat", 200_000, 2_000 if quick else 10_000)
            return Result(
                "trapped call: stat()", "us", n / 1e3, m / 1e3, "absolute", 15, "per call, timed in the program"
            )

        def pread_call() -> Result:
            n, m = probe("pread", 200_000, 200_000)
            return Result(
                "ABI call: pread() 4 KiB", "us", n / 1e3, m / 1e3, "ratio", 1.1, "per call, timed in the program"
            )

        def python_pass() -> Result:
            n, m = interleaved(reps, wall_of(native(PY, "-c", "pass")), wall_of(motte(warm, PY, "-c", "pass")))
            return Result("`python3 -c pass`", "ms", n * 1e3, m * 1e3, "ratio", 2)

        def sqlite() -> Result:
            nat = wall_of(native(PY, host / "sqlite_work.py", scratch / "bench.db"))
            box = wall_of(motte(warm, PY, f"{BOX}/sqlite_work.py", "/tmp/bench.db", mount=host))
            n, m = interleaved(reps, nat, box)
            return Result("sqlite3: 10k inserts + indexed query", "ms", n * 1e3, m * 1e3, "ratio", 1.3)

        def gcc() -> Result:
            script = "cp {0}/gen.c {1}/gen.c && cd {1} && gcc -O1 -o gen gen.c && ./gen >/dev/null"
            nat = wall_of(native("sh", "-c", script.format(host, scratch)))
            box = wall_of(motte(warm, "sh", "-c", script.format(BOX, "/tmp"), mount=host))
            n, m = interleaved(max(3, reps // 2), nat, box)
            return Result("gcc: compile + link 200-line C", "ms", n * 1e3, m * 1e3, "ratio", None)

        def memory() -> Result:
            rss, pss = library_os_memory(warm, 1 if quick else 3)
            return Result("library OS memory (VmRSS)", "MB", None, rss, "absolute", 40, f"Pss {pss:.1f} MB")

        for name, fn in [
            ("start-up", startup),
            ("start-up, host environment", startup_as_is),
            ("stat", stat_call),
            ("pread", pread_call),
            ("python3 -c pass", python_pass),
            ("sqlite3", sqlite),
            ("gcc", gcc),
            ("memory", memory),
        ]:
            measure(name, fn, results)
    finally:
        shutil.rmtree(host, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(pycache, ignore_errors=True)
    return results, f"{reps} interleaved repetitions (median)"


HEADER = ["benchmark", "native", "motte", "motte vs native", "target", "met"]


def text_table(results: list[Result]) -> str:
    rows = [HEADER] + [r.cells() for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows)


def markdown(results: list[Result], how: str, analysis: str) -> str:
    lines = ["# Benchmarks", "", "Generated by `python bench/run.py`; " + how + ".", ""]
    lines += ["| " + " | ".join(HEADER + ["notes"]) + " |", "|" + "---|" * (len(HEADER) + 1)]
    lines += ["| " + " | ".join(r.cells() + [r.note]) + " |" for r in results]
    lines += ["", "## Machine", ""]
    lines += [f"- {k}: {v}" for k, v in machine().items()]
    lines += ["", "## What the numbers say", "", analysis.strip() or "_(not written yet)_", ""]
    return "\n".join(lines)


ANALYSIS_MARK = "## What the numbers say"


def kept_analysis(path: Path) -> str:
    """The hand-written analysis of the previous docs/benchmarks.md, so a re-run keeps it."""
    if not path.exists():
        return ""
    _, _, rest = path.read_text().partition(ANALYSIS_MARK)
    return rest


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer repetitions (about 2 minutes)")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = ap.parse_args()
    if not MOTTE.exists() or not shutil.which("gcc"):
        print(f"needs {MOTTE} and gcc", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    results, how = run_all(args.quick)
    how += f", {'--quick' if args.quick else 'full'} run, {time.perf_counter() - t0:.0f} s"
    print()
    print(text_table(results))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(markdown(results, how, kept_analysis(args.out)))
    print(f"\nwrote {args.out}")
    return 0 if all(r.figure is not None for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
