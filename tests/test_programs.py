"""Real programs, run both inside `motte run` and natively on the host.

Each test runs an unmodified program (sh, bash, coreutils, python3, perl,
sqlite3, git, gcc, make) in a sandbox and, wherever the program's output does
not depend on where it runs, the same program natively, and compares exit
status, stdout and stderr. The only normalisations are for documented
differences between the sandbox and the host: the user (uid 1000 `user`
inside, root on the host running the tests), the hostname (`motte`), and
absolute paths of temporary host directories versus their sandbox mount
points.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
import textwrap
import uuid
from pathlib import Path

import pytest

from conftest import (
    MOTTE,
    SANDBOX_HOME,
    SANDBOX_HOSTNAME,
    SANDBOX_UID,
    SANDBOX_USER,
    SYSTEM_PYTHON,
    assert_same,
    ls_owner_to_sandbox,
    normalise,
    run_native,
    run_sandbox,
)


def _write(path: Path, text: str, mode: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    if mode is not None:
        path.chmod(mode)
    return path


def _require(*programs: str) -> None:
    missing = [p for p in programs if shutil.which(p, path="/usr/bin:/bin") is None]
    if missing:
        pytest.skip(f"not installed on the host: {', '.join(missing)}")


# --------------------------------------------------------------------------- sh


SH_SCRIPT = r"""
set -e
cat > in.txt <<'END'
banana 3
apple 10
cherry 7
apple 2
END
sort -k2,2n in.txt | awk '{s+=$2; print $1, s}' > out.txt 2> err.txt
cat out.txt | tr a-z A-Z | sed 's/ /:/'
wc -l < out.txt
test -s err.txt || echo "err.txt is empty"
{ echo to-stderr >&2; echo to-stdout; } 2>&1 | sort
{ echo only-err >&2; } 2>/dev/null
echo "really to stderr" >&2
name=doc
cat <<EOF | sed 's/^/> /'
unquoted heredoc: $name $((6*7)) $(echo cmd-sub)
literal \$name
EOF
cat <<'EOF'
quoted heredoc: $name $((6*7))
EOF
cat <<-X | cut -c1-9
	tab-stripped-heredoc
	X
exec 3> fd3.txt; echo via3 >&3; exec 3>&-; cat fd3.txt
exec 4< in.txt; read -r first <&4; exec 4<&-; echo "read from fd4: $first"
echo appended >> out.txt; tail -n 2 out.txt
ls nonexist 2>/dev/null || echo "ls failed $?"
seq 1 100000 | grep -c 7
seq 1 100000 | tail -n 3
printf 'x\ny\n' > a; printf 'y\nz\n' > b; cat a b | sort | uniq -c | sed 's/^ *//'
( cd / && pwd ); pwd | sed 's|.*/||'
echo "$(echo nested $(echo deeper))"
[ -z "$(cat /dev/null)" ] && echo empty-devnull
"""


def test_sh_pipelines_redirections_heredocs(tmp_path: Path) -> None:
    script = _write(tmp_path / "script.sh", SH_SCRIPT)
    # Sandbox: work in its private /tmp; natively: in a fresh host directory
    # whose last component is also "tmp" (the script prints it).
    sb = run_sandbox(["sh", "/script.sh"], mounts=[(script, "/script.sh", "ro")], workdir="/tmp")
    work = tmp_path / "native" / "tmp"
    work.mkdir(parents=True)
    nat = run_native(["sh", script], cwd=work)
    assert nat.returncode == 0, nat.stderr
    assert "APPLE:22" in nat.stdout and "via3" in nat.stdout  # the script really ran
    assert_same(sb, nat)


def test_sh_pipeline_stdin_and_exit_status_of_last_command() -> None:
    data = "".join(f"line {i}\n" for i in range(2000))
    cmd = ["sh", "-c", "grep -v 7 | sort -r | head -n 5; exit $(( $(echo 40) + 2 ))"]
    sb = run_sandbox(cmd, input=data)
    nat = run_native(cmd, input=data)
    assert nat.returncode == 42
    assert_same(sb, nat)


# --------------------------------------------------------------------------- coreutils


def _prepare_tree(root: Path) -> Path:
    """A directory with files of several kinds, sizes, modes and fixed times."""
    d = root / "prep"
    (d / "sub" / "deep").mkdir(parents=True)
    (d / "a.txt").write_text("alpha\n")
    (d / "big.bin").write_bytes(bytes(range(256)) * 40)
    (d / "empty").touch()
    (d / "sub" / "b.txt").write_text("bravo\nbravo\n")
    (d / "sub" / "deep" / "c.txt").write_text("charlie\n" * 100)
    (d / "script.sh").write_text("#!/bin/sh\necho hi\n")
    os.symlink("a.txt", d / "link")
    os.symlink("missing", d / "dangling")
    os.link(d / "a.txt", d / "hard")
    os.mkfifo(d / "fifo")
    (d / "a.txt").chmod(0o640)
    (d / "script.sh").chmod(0o755)
    (d / "sub").chmod(0o750)
    (d / "empty").chmod(0o600)
    t = 981173106  # 2001-02-03 04:05:06 UTC
    for i, p in enumerate(sorted(d.rglob("*"), reverse=True)):
        os.utime(p, (t + i, t + 1000 * i), follow_symlinks=False)
    os.utime(d, (t, t + 7))
    os.utime(root, (t, t + 9))
    return d


def test_ls_la_on_prepared_dir(tmp_path: Path) -> None:
    root = tmp_path / "root"
    d = _prepare_tree(root)
    # Mount the parent so that ".." is the same host directory both ways.
    args = ["ls", "-la", "--time-style=+%Y-%m-%d %H:%M:%S"]
    sb = run_sandbox([*args, "/d/prep"], mounts=[(root, "/d", "ro")])
    nat = run_native([*args, d])
    assert "a.txt" in nat.stdout and "link -> a.txt" in nat.stdout
    assert_same(sb, nat, fix=ls_owner_to_sandbox)
    # Recursive listing, sorted by size, with inode numbers.
    args = ["ls", "-laRiS", "--time-style=+%s"]
    sb = run_sandbox([*args, "."], mounts=[(root, "/d", "ro")], workdir="/d/prep")
    nat = run_native([*args, "."], cwd=d)
    assert_same(sb, nat, fix=ls_owner_to_sandbox)


def test_cp_a_mv_rm_find_in_writable_layer(tmp_path: Path) -> None:
    root = tmp_path / "root"
    _prepare_tree(root)
    script = _write(
        tmp_path / "fileops.sh",
        r"""
        set -e
        src=$1; cd "$2"
        cp -a "$src" copy
        # (directory sizes are left out: the sandbox's /tmp is a tmpfs)
        find copy -printf '%y %m %T@ %l %P\n' | sort -k5
        find copy -type f -printf '%s %P\n' | sort -k2
        echo ---- compare
        (cd "$src" && find . -type f ! -name fifo -exec cksum {} + | sort) > /tmp/sums.src.$$
        (cd copy && find . -type f ! -name fifo -exec cksum {} + | sort) > /tmp/sums.copy.$$
        cmp /tmp/sums.src.$$ /tmp/sums.copy.$$ && echo identical
        rm /tmp/sums.src.$$ /tmp/sums.copy.$$
        test "$(readlink copy/link)" = a.txt && test -p copy/fifo && echo "links and fifo copied"
        mkdir -p work/x/y
        echo one > work/x/y/f1
        cp work/x/y/f1 work/x/f2
        cp -r work/x work/x2
        mv work/x2/y work/moved
        mv work/x/f2 work/renamed
        mv copy/a.txt copy/sub/a-moved.txt
        ln -s ../renamed work/x/rel-link
        cat work/x/rel-link
        echo ---- find
        find work -printf '%y %m %P\n' | sort -k3
        find work -type f -printf '%s %P\n' | sort -k2
        find work copy -name '*.txt' -newer copy/empty | sort
        find . -type f -size +1k | sort
        find . -maxdepth 2 -type d -empty | sort
        find . -path '*/deep/*' -exec wc -l {} + | sort
        echo ---- rm
        rm -r work/x
        rm -rf copy/sub copy/fifo
        rm work/renamed
        rm -r work/moved work/x2
        find . | sort
        rmdir work
        rm -r copy
        ls -A
        rm nope 2>&1 || echo "rm status $?"
        rmdir . 2>&1 || echo "rmdir status $?"
        """,
    )
    sb_work = "/tmp/ops"
    sb = run_sandbox(
        ["sh", "-c", f"mkdir {sb_work} && exec sh /fileops.sh /d/prep {sb_work}"],
        mounts=[(root, "/d", "ro"), (script, "/fileops.sh", "ro")],
    )
    nat_work = tmp_path / "nat" / "ops"
    nat_work.mkdir(parents=True)
    nat = run_native(["sh", script, root / "prep", nat_work])
    assert "identical" in nat.stdout and "rm status 1" in nat.stdout
    fix = lambda s: s.replace(str(root), "/d").replace(str(nat_work), sb_work)  # noqa: E731
    assert_same(sb, nat, fix=fix)


def test_cp_mv_rm_on_rw_mount_reach_host(tmp_path: Path) -> None:
    share = tmp_path / "share"
    share.mkdir()
    (share / "orig.txt").write_text("original\n")
    os.utime(share / "orig.txt", (1000000000, 1000000000))
    (share / "doomed").mkdir()
    (share / "doomed" / "f").write_text("x")
    sb = run_sandbox(
        [
            "sh",
            "-c",
            "cp -a orig.txt kept.txt && mv orig.txt renamed.txt && rm -r doomed && "
            "mkdir -p new/dir && echo made > new/dir/file && ls -A",
        ],
        mounts=[(share, "/share", "rw")],
        workdir="/share",
    )
    assert sb.returncode == 0, sb.stderr
    assert sb.stdout == "kept.txt\nnew\nrenamed.txt\n"
    assert sorted(p.name for p in share.iterdir()) == ["kept.txt", "new", "renamed.txt"]
    assert (share / "kept.txt").read_text() == "original\n"
    assert (share / "kept.txt").stat().st_mtime == 1000000000  # cp -a kept the time
    assert (share / "renamed.txt").read_text() == "original\n"
    assert (share / "new" / "dir" / "file").read_text() == "made\n"


TEXT = "".join(f"{(i * 7919) % 1000:04d} item{i % 17} {'x' * (i % 5)}\n" for i in range(3000))


@pytest.mark.parametrize(
    "cmd",
    [
        "sort",
        "sort -r -k2,2 -k1,1n",
        "sort -u -t' ' -k2,2",
        "sort -n | uniq -c | sort -rn | head -n 5",
        "wc",
        "wc -l -w -c -L",
        "head -n 7",
        "head -c 100",
        "head -n -2990",
        "tail -n 4",
        "tail -c 33",
        "tail -n +2995",
        "tee /tmp/teed | wc -c; wc -c < /tmp/teed; echo more | tee -a /tmp/teed > /dev/null; wc -l /tmp/teed",
        "sort | tee /tmp/a /tmp/b | tail -n 1; cmp /tmp/a /tmp/b && echo same",
        "cut -d' ' -f2 | sort | uniq | wc -l",
    ],
)
def test_text_coreutils_on_stdin(cmd: str, tmp_path: Path) -> None:
    # /tmp inside the sandbox is private; natively, the same script runs with
    # /tmp replaced by a fresh host directory.
    sb = run_sandbox(["sh", "-c", cmd], input=TEXT)
    nat = run_native(["sh", "-c", cmd.replace("/tmp/", f"{tmp_path}/")], input=TEXT)
    assert nat.returncode == 0 and nat.stdout, nat.stderr
    assert_same(sb, nat, fix=lambda s: s.replace(f"{tmp_path}/", "/tmp/"))


def test_wc_head_tail_on_files(tmp_path: Path) -> None:
    root = tmp_path / "root"
    _prepare_tree(root)
    cmd = (
        "wc sub/b.txt sub/deep/c.txt big.bin; head -n 2 a.txt sub/b.txt; tail -n 1 -v sub/deep/c.txt; "
        "head -c 10 big.bin | od -An -tx1"
    )
    sb = run_sandbox(["sh", "-c", cmd], mounts=[(root, "/d", "ro")], workdir="/d/prep")
    nat = run_native(["sh", "-c", cmd], cwd=root / "prep")
    assert_same(sb, nat)


def test_stat_and_du(tmp_path: Path) -> None:
    root = tmp_path / "root"
    d = _prepare_tree(root)
    names = ["a.txt", "big.bin", "empty", "sub", "sub/deep/c.txt", "script.sh", "link", "dangling", "hard", "fifo"]
    fmt = "%n|%s|%a|%A|%F|%h|%X|%Y|%N|%U|%G|%u|%g|%i|%b|%B"
    sb = run_sandbox(["stat", "-c", fmt, *names], mounts=[(root, "/d", "ro")], workdir="/d/prep")
    nat = run_native(["stat", "-c", fmt, *names], cwd=d)

    def fix_ids(s: str) -> str:
        # The host user's files belong to the sandbox user inside.
        out = []
        for line in s.splitlines():
            f = line.split("|")
            if len(f) == 16:
                if f[11] == str(os.getuid()):
                    f[9], f[11] = SANDBOX_USER, str(SANDBOX_UID)
                if f[12] == str(os.getgid()):
                    f[10], f[12] = SANDBOX_USER, str(SANDBOX_UID)
            out.append("|".join(f))
        return "\n".join(out)

    assert len(nat.stdout.splitlines()) == len(names)
    assert_same(sb, nat, fix=fix_ids)
    # With symbolic links followed (-L).
    sb = run_sandbox(
        ["stat", "-L", "-c", "%n %s %F %h", "link", "hard", "sub"], mounts=[(root, "/d", "ro")], workdir="/d/prep"
    )
    nat = run_native(["stat", "-L", "-c", "%n %s %F %h", "link", "hard", "sub"], cwd=d)
    assert_same(sb, nat)
    for args in (
        ["du", "-ab"],
        ["du", "-a", "-k"],
        ["du", "-sb", "sub"],
        ["du", "-hc", "--max-depth=1"],
        ["du", "-abL", "link"],
        ["du", "-ab", "--exclude=*.bin"],
    ):
        sb = run_sandbox(args, mounts=[(root, "/d", "ro")], workdir="/d/prep")
        nat = run_native(args, cwd=d)
        assert_same(sb, nat, fix=lambda s: "\n".join(sorted(s.splitlines())))


@pytest.mark.parametrize(
    "args",
    [
        ["date", "-d", "@0", "-u"],
        ["date", "-u", "-d", "@0", "+%Y-%m-%d %H:%M:%S %Z %s %j %A"],
        ["date", "-u", "-d", "2000-02-29 12:34:56", "+%s"],
        ["date", "-u", "-d", "@1234567890", "-R"],
        ["date", "-u", "-d", "2024-01-31 + 1 month", "+%F"],
        ["date", "-d", "@86400", "--iso-8601=seconds", "-u"],
        ["env", "TZ=America/New_York", "date", "-d", "@1700000000"],
        ["env", "TZ=Asia/Kolkata", "date", "-d", "2020-06-01T00:00:00Z", "+%F %T %z"],
    ],
)
def test_date(args: list[str]) -> None:
    sb = run_sandbox(args)
    nat = run_native(args)
    assert nat.returncode == 0 and nat.stdout
    assert_same(sb, nat)


def test_date_now_is_close_to_host_clock() -> None:
    import time

    before = int(time.time())
    sb = run_sandbox(["date", "+%s"])
    after = int(time.time())
    assert sb.returncode == 0, sb.stderr
    assert before - 1 <= int(sb.stdout) <= after + 1


def test_env_clean_environment() -> None:
    for args in (
        ["env", "-i", "A=1", "B=two words", "C=", "env"],
        ["env", "-i", "X=1", "sh", "-c", 'cd /; echo "[$X] [${Y-unset}]"; env | grep -v ^OLDPWD= | sort'],
        ["env", "-u", "HOME", "-u", "USER", "sh", "-c", 'echo "${HOME-nohome} ${USER-nouser}"'],
        ["env", "--", "FOO=bar", "printenv", "FOO"],
        ["env", "-0", "-i", "K=V", "L=W"],
    ):
        sb = run_sandbox(args)
        nat = run_native(args)
        assert_same(sb, nat)


def test_env_of_sandboxed_program() -> None:
    sb = run_sandbox(
        ["env"],
        env={"GREETING": "hello world", "EMPTY": "", "EQ": "a=b"},
        host_env={"MOTTE_TEST_HOST_ONLY": "leak"},
    )
    assert sb.returncode == 0, sb.stderr
    env = dict(line.split("=", 1) for line in sb.stdout.splitlines())
    assert env["GREETING"] == "hello world"
    assert env["EMPTY"] == ""
    assert env["EQ"] == "a=b"
    assert env["HOME"] == SANDBOX_HOME
    assert env["USER"] == SANDBOX_USER
    # The host's environment does not leak into the sandbox.
    assert "MOTTE_TEST_HOST_ONLY" not in env
    assert not any(k.startswith("PYTEST") for k in env)
    # The default PATH finds the system's programs.
    assert "/usr/bin" in env["PATH"].split(":")


def test_id_of_the_default_user() -> None:
    # The sandbox's user is its own (uid 1000, `user`), whatever the host has.
    sb = run_sandbox(["id"])
    assert (sb.returncode, sb.stderr) == (0, "")
    assert (
        sb.stdout
        == f"uid={SANDBOX_UID}({SANDBOX_USER}) gid={SANDBOX_UID}({SANDBOX_USER}) groups={SANDBOX_UID}({SANDBOX_USER})\n"
    )
    sb = run_sandbox(
        ["sh", "-c", "id -u; id -g; id -un; id -gn; id -G; whoami; getent passwd $(id -u) | cut -d: -f1,3,4,6"]
    )
    assert (sb.returncode, sb.stderr) == (0, "")
    assert sb.stdout.splitlines() == [
        str(SANDBOX_UID),
        str(SANDBOX_UID),
        SANDBOX_USER,
        SANDBOX_USER,
        str(SANDBOX_UID),
        SANDBOX_USER,
        f"{SANDBOX_USER}:{SANDBOX_UID}:{SANDBOX_UID}:{SANDBOX_HOME}",
    ]


def test_id_with_user_option() -> None:
    sb = run_sandbox(["id"], options=["--user", "nobody"])
    nat = run_native(["id", "nobody"])
    assert_same(sb, nat)
    sb = run_sandbox(["sh", "-c", "id -u; echo $HOME $USER"], options=["--user", "65534"])
    assert sb.returncode == 0, sb.stderr
    assert sb.stdout.splitlines()[0] == "65534"


def test_id_as_root_user_option() -> None:
    sb = run_sandbox(["id"], options=["--user", "0"], timeout=20)
    nat = run_native(["id", "root"])
    assert_same(sb, nat)


def test_hostname_is_the_sandbox_hostname() -> None:
    sb = run_sandbox(["sh", "-c", "hostname; uname -n; cat /proc/sys/kernel/hostname"])
    assert sb.returncode == 0, sb.stderr
    assert sb.stdout == f"{SANDBOX_HOSTNAME}\n" * 3


# --------------------------------------------------------------------------- bash


BASH_SCRIPT = r"""
set -u
fact() { local n=$1; if (( n <= 1 )); then echo 1; else echo $(( n * $(fact $((n-1))) )); fi; }
greet() { local who=${1:-world}; printf 'hello, %s\n' "$who"; return 4; }
echo "fact 10 = $(fact 10)"
greet bash; echo "greet returned $?"
x=outer
( x=inner; echo "in subshell: $x"; exit 5 ); echo "subshell status $? x=$x"
inner=$(echo $BASHPID); [ "$inner" != "$BASHPID" ] && echo "subshell has its own pid"
[ "$(echo $$)" = "$$" ] && echo "\$\$ is the same in a subshell"
arr=(zero one "two words" three); echo "${#arr[@]} ${arr[2]} ${arr[@]:1:2}"
declare -A m=([b]=2 [a]=1); for k in $(printf '%s\n' "${!m[@]}" | sort); do echo "$k=${m[$k]}"; done
while read -r a b; do echo "$b-$a"; done < <(printf '1 one\n2 two\n')
count=0; printf 'a\nb\nc\n' | while read -r l; do count=$((count+1)); done; echo "pipe subshell count=$count"
{ for i in 3 2 1; do (sleep 0.0$i; echo "job $i") & done; wait; echo "waited for jobs"; } | sort
sleep 5 & pid=$!; kill $pid; wait $pid; echo "killed job status $?"
( trap 'echo trapped EXIT' EXIT; echo in-trap-subshell )
trap 'echo got USR1' USR1; kill -USR1 $$; trap - USR1
s="The Quick Brown"; echo "${s,,} ${s^^} ${s// /_} ${s:4:5} ${#s}"
case "$s" in *Quick*) echo matched;; *) echo nomatch;; esac
f() { echo "args: $# [$*]"; shift; echo "after shift: $1"; }; f a "b c" d
echo $(( 2**20 )) $(( 7 % 3 )) $(( (1<<4) | 1 ))
{ read -r line; echo "first line: $line"; } <<< $'here string\nsecond'
set -o pipefail; false | true; echo "pipefail status $?"; set +o pipefail
coproc cat; echo via-coproc >&"${COPROC[1]}"; exec {COPROC[1]}>&-; read -r got <&"${COPROC[0]}"; echo "$got"; wait
mapfile -t lines < <(seq 3); echo "mapfile: ${lines[*]}"
printf -v padded '%05d' 42; echo "$padded"
outer() { inner_fn() { echo "defined inside"; }; inner_fn; }; outer; inner_fn
r=$( ( ( echo deep-nest; exit 3 ) ); echo "st=$?" ); echo "$r" | tr '\n' ' '; echo
type fact | head -n 1
exit 9
"""


def test_bash_functions_and_subshells(tmp_path: Path) -> None:
    script = _write(tmp_path / "b.sh", BASH_SCRIPT)
    sb = run_sandbox(["bash", "/b.sh"], mounts=[(script, "/b.sh")])
    nat = run_native(["bash", script], cwd=tmp_path)
    assert nat.returncode == 9, nat.stderr
    assert "fact 10 = 3628800" in nat.stdout
    assert_same(sb, nat)


# --------------------------------------------------------------------------- python


PY_PROGRAM = r"""
import hashlib, json, multiprocessing, os, sqlite3, subprocess, sys, threading

def square(x):
    return x * x

def pid_of(_):
    return os.getpid()

if __name__ == "__main__":
    print(json.dumps({"b": [1, 2.5, None, True], "a": "\u00e9"}, sort_keys=True))
    print(json.loads('{"k": [1, {"n": null}]}'))
    db = sqlite3.connect(":memory:")
    db.execute("create table t (k integer primary key, v text)")
    db.executemany("insert into t (v) values (?)", [(str(i) * 3,) for i in range(100)])
    print(db.execute("select count(*), sum(k), max(v) from t").fetchone())
    print(sqlite3.sqlite_version_info >= (3, 0, 0))
    print(hashlib.sha256(b"abc").hexdigest())
    print(hashlib.md5(b"x" * 100000).hexdigest(), hashlib.blake2b(b"motte", digest_size=16).hexdigest())
    r = subprocess.run(["sh", "-c", "echo from-child; echo err >&2; exit 3"], capture_output=True, text=True)
    print(repr(r.stdout), repr(r.stderr), r.returncode)
    print(subprocess.check_output("printf '%s\n' c a b | sort", shell=True, text=True).split())
    p = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    print(p.communicate(b"through a pipe")[0], p.returncode)
    lock = threading.Lock(); total = [0]
    def work(n):
        for _ in range(n):
            with lock:
                total[0] += 1
    ts = [threading.Thread(target=work, args=(10000,)) for _ in range(8)]
    [t.start() for t in ts]; [t.join() for t in ts]
    print("threads:", total[0])
    ev = threading.Event(); threading.Timer(0.05, ev.set).start(); print("event:", ev.wait(10))
    with multiprocessing.Pool(3) as pool:
        print("pool:", pool.map(square, range(12)))
        print("workers are other processes:", os.getpid() not in set(pool.map(pid_of, range(6))))
    q = multiprocessing.Queue()
    pr = multiprocessing.Process(target=q.put, args=("via-queue",)); pr.start()
    print(q.get(timeout=30)); pr.join(); print("exitcode", pr.exitcode)
    sys.exit(5)
"""


def test_python_stdlib_json_sqlite_hashlib_subprocess_threading_multiprocessing() -> None:
    sb = run_sandbox(["python3", "-c", PY_PROGRAM])
    nat = run_native([SYSTEM_PYTHON, "-c", PY_PROGRAM])
    assert nat.returncode == 5, nat.stderr
    assert "pool: [0, 1, 4, 9" in nat.stdout
    assert_same(sb, nat)


PY_THREAD_FILES = r"""
import os, threading, tempfile
results = {}
def worker(i):
    path = os.path.join(tempfile.gettempdir(), f"t{i}.txt")
    with open(path, "w") as f:          # open + fstat (buffering) + write in a thread
        f.write(str(i) * (i + 1))
    st = os.stat(path)
    fd = os.open(path, os.O_RDONLY)
    try:
        results[i] = (os.fstat(fd).st_size, os.read(fd, 100).decode(), st.st_size)
    finally:
        os.close(fd)
        os.unlink(path)
ts = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]
print(sorted(results.items()))
"""


def test_python_threads_doing_file_io(tmp_path: Path) -> None:
    # Not only the main thread: every thread's fd calls (fstat, read) work.
    sb = run_sandbox(["python3", "-c", PY_THREAD_FILES])
    nat = run_native([SYSTEM_PYTHON, "-c", PY_THREAD_FILES], env={"TMPDIR": str(tmp_path)})
    assert nat.returncode == 0 and "(3, (4, '3333', 4))" in nat.stdout, nat.stderr
    assert_same(sb, nat)


def test_python_is_the_system_python() -> None:
    code = "import sys, platform; print(sys.executable, platform.python_version(), sys.prefix)"
    sb = run_sandbox(["python3", "-c", code])
    nat = run_native([SYSTEM_PYTHON, "-c", code])
    assert_same(sb, nat)


def test_python_venv_in_writable_layer(tmp_path: Path) -> None:
    venv = f"/tmp/venv-{uuid.uuid4().hex[:8]}"
    code = "import sys, os; print(sys.prefix, sys.base_prefix, sys.prefix != sys.base_prefix, os.path.basename(sys.executable))"
    script = (
        f"set -e; python3 -m venv {venv}; "
        f"{venv}/bin/python -c '{code}'; "
        f"{venv}/bin/python -m pip --version | cut -d' ' -f1,3-; "
        f". {venv}/bin/activate; command -v python; python -c 'import sys; print(sys.prefix)'; "
        f"ls {venv}/bin | grep -E '^(python|pip|activate)' | sort; cat {venv}/pyvenv.cfg | grep -v '^command'"
    )
    sb = run_sandbox(["sh", "-c", script], timeout=120)
    assert sb.returncode == 0, sb.stderr
    assert sb.stdout.splitlines()[0] == f"{venv} /usr True python"
    # The same natively, in a host directory.
    nat_venv = str(tmp_path / "v")
    nat = run_native(
        ["sh", "-c", script.replace("python3 -m venv", f"{SYSTEM_PYTHON} -m venv").replace(venv, nat_venv)], timeout=120
    )
    assert nat.returncode == 0, nat.stderr
    assert_same(sb, nat, fix=lambda s: s.replace(nat_venv, venv))
    # The writable layer is private and discarded at exit.
    assert not os.path.exists(venv)
    again = run_sandbox(["sh", "-c", f"test -e {venv} && echo still-there || echo gone"])
    assert again.stdout == "gone\n", again.stderr


# --------------------------------------------------------------------------- perl


@pytest.mark.parametrize(
    "args, stdin",
    [
        (["perl", "-e", 'print "hello from perl $]\\n"; printf("%.5f\\n", atan2(1,1)*4)'], None),
        (["perl", "-ne", 'print if /7/; END { print "lines=$.\\n" }'], TEXT),
        (["perl", "-lane", '$c{$F[1]}++; END { print "$_ $c{$_}" for sort keys %c }'], TEXT),
        (["perl", "-pe", "s/(\\d+)/$1*2/e; tr/a-z/A-Z/"], TEXT[:2000]),
        (["perl", "-MList::Util=sum,max", "-le", "print sum(1..100), q{ }, max(3,9,2)"], None),
        (["perl", "-MDigest::SHA=sha1_hex", "-le", "print sha1_hex(q{motte})"], None),
        (["perl", "-MPOSIX=strftime", "-le", "print strftime(q{%Y-%m-%d}, gmtime(86400*365))"], None),
        (
            [
                "perl",
                "-e",
                'my $p = fork // die; if (!$p) { print "child\\n"; exit 7 } waitpid($p,0); print "child status ", $? >> 8, "\\n"',
            ],
            None,
        ),
        (
            [
                "perl",
                "-e",
                'open(my $fh, "-|", "echo", "piped") or die; print scalar <$fh>; close $fh; print "sys=", system("exit 2") >> 8, "\\n"',
            ],
            None,
        ),
        (
            [
                "perl",
                "-e",
                'open(my $o, ">", "/tmp/p.txt") or die "$!"; print $o "x" x 10; close $o; print -s "/tmp/p.txt", "\\n"; unlink "/tmp/p.txt"; print -e "/tmp/p.txt" ? "exists" : "gone", "\\n"',
            ],
            None,
        ),
        (["perl", "-e", 'die "dying\\n"'], None),
        (["perl", "-e", "exit 3"], None),
    ],
)
def test_perl_one_liners(args: list[str], stdin: str | None, tmp_path: Path) -> None:
    sb = run_sandbox(args, input=stdin)
    nat_args = [a.replace("/tmp/", f"{tmp_path}/") for a in args]
    nat = run_native(nat_args, input=stdin)
    assert nat.stdout or nat.stderr or nat.returncode
    assert_same(sb, nat)


# --------------------------------------------------------------------------- sqlite3 shell


SQL = """\
create table people (id integer primary key, name text not null, born integer);
insert into people (name, born) values ('Ada', 1815), ('Alan', 1912), ('Grace', 1906), ('Edsger', 1930);
create index people_born on people (born);
begin;
update people set born = born + 0 where name like 'A%';
delete from people where name = 'Edsger';
commit;
.headers on
.mode column
select name, born from people order by born;
.mode csv
select count(*) as n, min(born), max(born) from people;
.mode list
select group_concat(name, '+') from (select name from people order by name);
pragma integrity_check;
.tables
"""


def test_sqlite3_shell_on_file_database(tmp_path: Path) -> None:
    _require("sqlite3")
    share = tmp_path / "share"
    share.mkdir()
    sb = run_sandbox(["sqlite3", "/data/people.db"], input=SQL, mounts=[(share, "/data", "rw")], workdir="/data")
    nat_dir = tmp_path / "nat"
    nat_dir.mkdir()
    nat = run_native(["sqlite3", nat_dir / "people.db"], input=SQL)
    assert nat.returncode == 0 and "Grace" in nat.stdout, nat.stderr
    assert_same(sb, nat)
    # The database the sandbox wrote is on the host and is sound.
    con = sqlite3.connect(share / "people.db")
    assert con.execute("pragma integrity_check").fetchone() == ("ok",)
    assert con.execute("select name from people order by id").fetchall() == [("Ada",), ("Alan",), ("Grace",)]
    con.close()
    assert not (share / "people.db-journal").exists()
    # A second sandbox reads it through a read-only mount.
    q = ["sqlite3", "-readonly", "/ro/people.db", "select name, born from people where born > 1900 order by name;"]
    sb = run_sandbox(q, mounts=[(share, "/ro", "ro")])
    assert sb.returncode == 0, sb.stderr
    assert sb.stdout == "Alan|1912\nGrace|1906\n"
    # ...and cannot write to it there.
    sb = run_sandbox(
        ["sqlite3", "/ro/people.db", "insert into people (name) values ('X');"], mounts=[(share, "/ro", "ro")]
    )
    assert sb.returncode != 0
    assert "readonly" in sb.stderr.replace("-", "").replace(" ", "").lower() or "read-only" in sb.stderr
    con = sqlite3.connect(share / "people.db")
    assert con.execute("select count(*) from people").fetchone() == (3,)
    con.close()


# --------------------------------------------------------------------------- git


GIT_ENV = {
    "GIT_AUTHOR_NAME": "Motte Tester",
    "GIT_AUTHOR_EMAIL": "tester@example.org",
    "GIT_COMMITTER_NAME": "Motte Tester",
    "GIT_COMMITTER_EMAIL": "tester@example.org",
    "GIT_AUTHOR_DATE": "2001-02-03T04:05:06Z",
    "GIT_COMMITTER_DATE": "2001-02-03T04:05:06Z",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
}

GIT_SCRIPT = r"""
set -e
git init -q -b main .
printf 'hello\n' > README
mkdir -p src && printf 'int main(void) { return 0; }\n' > src/main.c
chmod +x src/main.c
git add README src
git commit -q -m "first commit"
printf 'more\n' >> README
git mv src/main.c src/prog.c
git commit -q -am "second: rename and edit"
git tag v1
git checkout -q -b side
printf 'side\n' > side.txt && git add side.txt && git commit -q -m "side work"
git checkout -q main
git merge -q --no-ff -m "merge side" side
git log --format='%H %an <%ae> %ad %s' --date=iso-strict
git log --stat --oneline main~1..main
git show --stat --format=%s v1
git status --porcelain=v2 --branch
git ls-files -s
git rev-parse HEAD^{tree}
git cat-file -p HEAD | head -n 3
git describe --tags
git fsck --no-progress
"""

GIT_GC_SCRIPT = r"""
set -e
git init -q -b main .
for i in 1 2 3 4 5; do
  seq $i 1000 > f$i; git add f$i; git commit -q -m "commit $i"
done
git count-objects -v | grep -E '^(count|in-pack|packs)'
git gc -q
git count-objects -v | grep -E '^(count|in-pack|packs)'
git fsck --no-progress
git verify-pack -v .git/objects/pack/*.idx | grep -c -E '^[0-9a-f]{40} (commit|tree|blob)'
git log --format='%H %s'
"""


def test_git_init_add_commit_log_in_rw_mount(tmp_path: Path) -> None:
    _require("git")
    repo = tmp_path / "repo"
    repo.mkdir()
    script = _write(tmp_path / "git.sh", GIT_SCRIPT)
    sb = run_sandbox(
        ["sh", "/git.sh"], mounts=[(repo, "/work", "rw"), (script, "/git.sh", "ro")], workdir="/work", env=GIT_ENV
    )
    nat_repo = tmp_path / "native"
    nat_repo.mkdir()
    nat = run_native(["sh", script], cwd=nat_repo, env=GIT_ENV)
    assert nat.returncode == 0, nat.stderr
    assert_same(sb, nat)
    # Fixed dates and identities make the commit ids identical; check the
    # host sees the sandbox's repository as a sound one with the same history.
    host_log = subprocess.run(
        ["git", "-C", str(repo), "log", "--format=%H %s"], capture_output=True, text=True, env={**os.environ, **GIT_ENV}
    )
    nat_log = subprocess.run(
        ["git", "-C", str(nat_repo), "log", "--format=%H %s"],
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_ENV},
    )
    assert host_log.returncode == 0, host_log.stderr
    assert host_log.stdout == nat_log.stdout and host_log.stdout.count("\n") == 4
    fsck = subprocess.run(
        ["git", "-C", str(repo), "fsck", "--strict"], capture_output=True, text=True, env={**os.environ, **GIT_ENV}
    )
    assert fsck.returncode == 0, fsck.stderr
    assert (repo / "src" / "prog.c").stat().st_mode & 0o111


def test_git_gc_repacks_in_rw_mount(tmp_path: Path) -> None:
    # git gc runs pack-objects, which reads objects from several threads.
    _require("git")
    repo = tmp_path / "repo"
    repo.mkdir()
    script = _write(tmp_path / "gc.sh", GIT_GC_SCRIPT)
    sb = run_sandbox(
        ["sh", "/gc.sh"], mounts=[(repo, "/work", "rw"), (script, "/gc.sh", "ro")], workdir="/work", env=GIT_ENV
    )
    nat_repo = tmp_path / "native"
    nat_repo.mkdir()
    nat = run_native(["sh", script], cwd=nat_repo, env=GIT_ENV)
    assert nat.returncode == 0 and "packs: 1" in nat.stdout, nat.stderr
    assert_same(sb, nat)


def test_git_with_dash_c_identity(tmp_path: Path) -> None:
    _require("git")
    repo = tmp_path / "r"
    repo.mkdir()
    env = {"GIT_AUTHOR_DATE": "2020-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2020-01-01T00:00:00Z"}
    cmd = (
        "git init -q -b main && echo x > f && git add f && "
        "git -c user.name=Dash -c user.email=dash@example.org commit -q -m one && git log --format='%H %an %ae %s'"
    )
    sb = run_sandbox(["sh", "-c", cmd], mounts=[(repo, "/work", "rw")], workdir="/work", env=env)
    nat_repo = tmp_path / "n"
    nat_repo.mkdir()
    nat = run_native(
        ["sh", "-c", cmd], cwd=nat_repo, env={**env, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null"}
    )
    assert nat.returncode == 0, nat.stderr
    assert_same(sb, nat)


# --------------------------------------------------------------------------- gcc and make


C_PROGRAM = r"""
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int cmp(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

int main(int argc, char **argv) {
    int v[] = {5, 3, 9, 1, 7};
    qsort(v, 5, sizeof v[0], cmp);
    printf("argc=%d argv1=%s sorted=%d%d%d%d%d sqrt2=%.6f\n", argc, argc > 1 ? argv[1] : "-",
           v[0], v[1], v[2], v[3], v[4], sqrt(2.0));
    int fd = open("data.out", O_CREAT | O_TRUNC | O_WRONLY, 0644);
    if (fd < 0) { perror("open"); return 1; }
    for (int i = 0; i < 1000; i++) dprintf(fd, "%d\n", i);
    close(fd);
    struct stat st;
    if (stat("data.out", &st) != 0) { perror("stat"); return 1; }
    printf("size=%lld\n", (long long)st.st_size);
    int p[2];
    if (pipe(p) != 0) { perror("pipe"); return 1; }
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        const char *msg = "child says hi";
        write(p[1], msg, strlen(msg));
        _exit(42);
    }
    close(p[1]);
    char buf[64] = {0};
    ssize_t n = read(p[0], buf, sizeof buf - 1);
    int status;
    waitpid(pid, &status, 0);
    printf("read %zd: %s; child exit %d\n", n, buf, WEXITSTATUS(status));
    if (open("/nonexistent/file", O_RDONLY) < 0) printf("errno=%s\n", strerror(errno));
    unlink("data.out");
    fprintf(stderr, "done\n");
    return 7;
}
"""


def test_gcc_compile_link_and_run_in_tmp(tmp_path: Path) -> None:
    _require("gcc")
    src = _write(tmp_path / "prog.c", C_PROGRAM)
    build = (
        'set -e; cd "$1"; cp "$2" prog.c; gcc -O2 -Wall -Wextra -Wno-unused-result -c prog.c -o prog.o; '
        'gcc prog.o -o prog -lm; test -x prog; set +e; ./prog arg1; echo "status $?"; ls'
    )
    sb = run_sandbox(["sh", "-c", build, "sh", "/tmp", "/src/prog.c"], mounts=[(src, "/src/prog.c", "ro")])
    nat_dir = tmp_path / "build"
    nat_dir.mkdir()
    nat = run_native(["sh", "-c", build, "sh", nat_dir, src])
    assert "status 7" in nat.stdout, nat.stderr
    assert_same(sb, nat)


def test_gcc_binary_built_in_sandbox_runs_natively(tmp_path: Path) -> None:
    _require("gcc")
    out = tmp_path / "out"
    out.mkdir()
    src = 'int main(void){ puts("built in motte"); return 0; }'
    sb = run_sandbox(
        ["sh", "-c", f"printf '#include <stdio.h>\\n%s\\n' '{src}' > /tmp/h.c && gcc -o /out/h /tmp/h.c && /out/h"],
        mounts=[(out, "/out", "rw")],
    )
    assert sb.returncode == 0, sb.stderr
    assert sb.stdout == "built in motte\n"
    nat = run_native([out / "h"])
    assert nat.stdout == "built in motte\n"


MAKEFILE = """\
CC = gcc
all: upper.txt prog
\t@echo all done

upper.txt: in.txt
\ttr a-z A-Z < in.txt > $@

prog: prog.c
\t$(CC) -O1 -o $@ $<

clean:
\trm -f upper.txt prog

.PHONY: all clean
"""


def test_make_two_targets_in_rw_mount(tmp_path: Path) -> None:
    _require("make", "gcc")
    share = tmp_path / "proj"
    share.mkdir()
    (share / "Makefile").write_text(MAKEFILE)
    (share / "in.txt").write_text("make me loud\n")
    (share / "prog.c").write_text('#include <stdio.h>\nint main(void){puts("prog ran");return 0;}\n')
    nat_dir = tmp_path / "native"
    shutil.copytree(share, nat_dir)
    script = (
        "make && make && ./prog && cat upper.txt && touch in.txt && make upper.txt && make -n clean && "
        'make clean && ls && make nosuch; echo "status $?"'
    )
    sb = run_sandbox(["sh", "-c", script], mounts=[(share, "/proj", "rw")], workdir="/proj")
    nat = run_native(["sh", "-c", script], cwd=nat_dir)
    assert "prog ran" in nat.stdout and "MAKE ME LOUD" in nat.stdout, nat.stderr
    assert_same(sb, nat)
    # Build once more and leave the products on the host.
    sb = run_sandbox(["make", "-s"], mounts=[(share, "/proj", "rw")], workdir="/proj")
    assert sb.returncode == 0, sb.stderr
    assert (share / "upper.txt").read_text() == "MAKE ME LOUD\n"
    assert subprocess.run([share / "prog"], capture_output=True, text=True).stdout == "prog ran\n"


def test_make_parallel_jobs(tmp_path: Path) -> None:
    _require("make")
    share = tmp_path / "proj"
    share.mkdir()
    rules = "".join(f"t{i}:\n\t@sleep 0.1; echo t{i} > $@\n" for i in range(6))
    (share / "Makefile").write_text(
        "all: " + " ".join(f"t{i}" for i in range(6)) + "\n\t@cat t* | sort | tr '\\n' ' '\n" + rules
    )
    sb = run_sandbox(["make", "-j4", "-s"], mounts=[(share, "/p", "rw")], workdir="/p")
    assert sb.returncode == 0, sb.stderr
    assert sb.stdout == "t0 t1 t2 t3 t4 t5 "


# --------------------------------------------------------------------------- exit status, stdin, errors


@pytest.mark.parametrize(
    "args, expected",
    [
        (["sh", "-c", "exit 3"], 3),
        (["sh", "-c", "exit 0"], 0),
        (["sh", "-c", "exit 255"], 255),
        (["false"], 1),
        (["sh", "-c", "kill -TERM $$"], 128 + 15),
        (["sh", "-c", "kill -KILL $$"], 128 + 9),
        (["sh", "-c", "kill -INT $$"], 128 + 2),
        (["sh", "-c", "kill -USR1 $$"], 128 + 10),
        (["python3", "-c", "import os; os.abort()"], 128 + 6),
        (["python3", "-c", "import ctypes; ctypes.string_at(0)"], 128 + 11),
        (["perl", "-e", "kill 'HUP', $$; sleep 5"], 128 + 1),
        (["sh", "-c", "sh -c 'exit 4'; exit $(( $? * 10 ))"], 40),
    ],
)
def test_exit_status_propagation(args: list[str], expected: int) -> None:
    sb = run_sandbox(args, timeout=30)
    assert sb.returncode == expected, sb.stderr
    nat = run_native([SYSTEM_PYTHON if a == "python3" else a for a in args], timeout=30)
    nat_status = 128 - nat.returncode if nat.returncode < 0 else nat.returncode
    assert nat_status == expected  # the native program agrees
    assert "Traceback" not in sb.stderr


def test_sigpipe_ends_a_writer_whose_reader_is_gone() -> None:
    # Programs start with default signal dispositions: a write to a closed
    # pipe kills the writer with SIGPIPE (status 141), silently.
    cmd = [
        "bash",
        "-c",
        'yes | head -n 1; echo "yes: ${PIPESTATUS[0]}"; '
        "perl -e 'print defined $SIG{PIPE} && $SIG{PIPE} eq q{IGNORE} ? qq{ignored\\n} : qq{default\\n}'",
    ]
    sb = run_sandbox(cmd)
    nat = run_native(cmd)
    assert nat.stdout == "y\nyes: 141\ndefault\n", nat.stderr
    assert_same(sb, nat)


EINTR_PROGRAM = r"""
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
static volatile sig_atomic_t ticks;
static void on_alarm(int s) { (void)s; ticks++; }
int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; /* deliberately without SA_RESTART */
    sigaction(SIGALRM, &sa, NULL);
    sigaction(SIGCHLD, &sa, NULL);
    struct itimerval it = {{0, 200}, {0, 200}};
    setitimer(ITIMER_REAL, &it, NULL);
    int open_eintr = 0, stat_eintr = 0, fork_eintr = 0, other = 0;
    for (int i = 0; i < 3000; i++) {
        int fd = open("/etc/hostname", O_RDONLY);
        if (fd < 0) { if (errno == EINTR) open_eintr++; else other++; } else close(fd);
        struct stat st;
        if (stat("/etc/passwd", &st) != 0) { if (errno == EINTR) stat_eintr++; else other++; }
    }
    for (int i = 0; i < 100; i++) {
        pid_t p = fork();
        if (p < 0) { if (errno == EINTR) fork_eintr++; else other++; continue; }
        if (p == 0) _exit(0);
        while (waitpid(p, NULL, 0) < 0 && errno == EINTR) {}
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    printf("open EINTR %d, stat EINTR %d, fork EINTR %d, other errors %d, ticked %d\n",
           open_eintr, stat_eintr, fork_eintr, other, ticks > 0);
    return 0;
}
"""


def _eintr_counts(out: str) -> dict[str, int]:
    # "open EINTR 0, stat EINTR 0, fork EINTR 0, other errors 0, ticked 1"
    words = out.replace(",", "").split()
    return {"open": int(words[2]), "stat": int(words[5]), "fork": int(words[8]), "other": int(words[11])}


def test_fork_is_never_cut_short_by_a_signal(tmp_path: Path) -> None:
    """fork restarts itself natively; in the sandbox it is an ABI call, so a
    handler without SA_RESTART never sees EINTR from it either."""
    _require("gcc")
    src = _write(tmp_path / "eintr.c", EINTR_PROGRAM)
    build = 'set -e; cd "$1"; gcc -O2 -o eintr "$2"; ./eintr'
    sb = run_sandbox(["sh", "-c", build, "sh", "/tmp", "/src/eintr.c"], mounts=[(src, "/src/eintr.c", "ro")])
    assert sb.returncode == 0, sb.stderr
    counts = _eintr_counts(sb.stdout)
    assert counts["fork"] == 0 and counts["other"] == 0, sb.stdout


@pytest.mark.xfail(
    reason="known limit (docs/architecture.md): a signal that reaches a thread after its call was trapped "
    "but before the library OS received it interrupts the call (EINTR without SA_RESTART)",
    strict=False,
)
def test_signal_handlers_do_not_make_file_calls_fail_with_eintr(tmp_path: Path) -> None:
    # open(2) of a regular file and stat(2) are not interruptible, and fork(2)
    # restarts itself: a program whose signal handlers lack SA_RESTART never
    # sees EINTR from them outside the sandbox.
    _require("gcc")
    src = _write(tmp_path / "eintr.c", EINTR_PROGRAM)
    build = 'set -e; cd "$1"; gcc -O2 -o eintr "$2"; ./eintr'
    sb = run_sandbox(["sh", "-c", build, "sh", "/tmp", "/src/eintr.c"], mounts=[(src, "/src/eintr.c", "ro")])
    nat_dir = tmp_path / "build"
    nat_dir.mkdir()
    nat = run_native(["sh", "-c", build, "sh", nat_dir, src])
    assert nat.stdout == "open EINTR 0, stat EINTR 0, fork EINTR 0, other errors 0, ticked 1\n", nat.stderr
    assert_same(sb, nat)


def test_concurrent_sandboxes_run_shell_pipelines() -> None:
    # Several sandboxes at once (as under a parallel test runner): each one's
    # sh forks for its pipeline while the others keep the host busy.
    cmd = [MOTTE, "run", "--", "sh", "-c", "true | true; seq 1 3 | tr '\\n' ' '; echo ok"]
    procs = [
        subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    results = [(p.communicate(timeout=120), p.returncode) for p in procs]
    for (out, err), rc in results:
        assert (rc, out, err) == (0, "1 2 3 ok\n", ""), results


def test_killed_child_status_seen_by_shell() -> None:
    cmd = ["sh", "-c", 'sh -c \'kill -TERM $$\'; echo "child status $?"; sleep 10 & kill -9 $!; wait $!; echo "bg $?"']
    sb = run_sandbox(cmd)
    nat = run_native(cmd)
    assert nat.stdout == "child status 143\nbg 137\n"
    # Whether sh reports the background job as "Killed" depends on when its
    # SIGCHLD arrives, so only the foreground child's report is compared.
    assert_same(sb, nat, stderr=False)
    assert sb.stderr.startswith("Terminated\n"), sb.stderr


def test_missing_program() -> None:
    name = f"no-such-program-{uuid.uuid4().hex[:6]}"
    sb = run_sandbox([name])
    assert sb.returncode == 127
    assert sb.stdout == ""
    assert sb.stderr == f"motte: {name}: not found in the sandbox\n"


def test_program_only_on_host_is_not_found() -> None:
    # The motte executable lives outside the directories the sandbox sees.
    assert not MOTTE.startswith(("/usr/", "/bin/", "/sbin/", "/lib", "/etc/"))
    sb = run_sandbox([MOTTE, "--help"])
    assert sb.returncode == 127
    assert sb.stderr == f"motte: {MOTTE}: not found in the sandbox\n"


def test_missing_program_inside_the_sandbox_shell() -> None:
    cmd = ["sh", "-c", 'no-such-program-xyz; echo "status $?"']
    sb = run_sandbox(cmd)
    nat = run_native(cmd)
    assert sb.stdout == nat.stdout == "status 127\n"
    assert "not found" in sb.stderr


def test_stdin_passthrough_without_dash_i(motte_bin: str) -> None:
    out = subprocess.run(f"echo hi | {motte_bin} run -- cat", shell=True, capture_output=True, text=True, timeout=60)
    assert (out.returncode, out.stdout, out.stderr) == (0, "hi\n", "")


def test_stdin_large_binary_passthrough() -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    sb = run_sandbox(["sh", "-c", "sha256sum; true"], input=data, text=False)
    assert sb.returncode == 0, sb.stderr
    assert sb.stdout.decode().split()[0] == hashlib.sha256(data).hexdigest()
    sb = run_sandbox(["cat"], input=data, text=False)
    assert sb.stdout == data


def test_stdin_eof_and_empty_input() -> None:
    sb = run_sandbox(["wc", "-c"], input="")
    assert (sb.returncode, sb.stdout.strip()) == (0, "0")
    sb = run_sandbox(["sh", "-c", "read x || echo eof"], input="")
    assert (sb.returncode, sb.stdout, sb.stderr) == (0, "eof\n", "")


def test_stdout_and_stderr_are_separate() -> None:
    cmd = ["sh", "-c", "echo out; echo err >&2; echo out2; echo err2 1>&2"]
    sb = run_sandbox(cmd)
    assert (sb.stdout, sb.stderr) == ("out\nout2\n", "err\nerr2\n")


def _assert_one_line_error(res: subprocess.CompletedProcess) -> None:
    assert res.returncode == 2, res.stderr
    assert res.stdout == ""
    assert "Traceback" not in res.stderr
    lines = res.stderr.splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("motte: ")


def test_bad_mount_source(tmp_path: Path) -> None:
    missing = tmp_path / "does-not-exist"
    res = run_sandbox(["true"], mounts=[(missing, "/x", "rw")])
    _assert_one_line_error(res)
    assert str(missing) in res.stderr


@pytest.mark.parametrize("spec", ["nocolon", "/a:/b:rx", "/a:/b:ro:extra"])
def test_malformed_mount_option(spec: str) -> None:
    res = run_sandbox(["true"], mounts=[spec])
    _assert_one_line_error(res)


def test_bad_mount_target(tmp_path: Path) -> None:
    res = run_sandbox(["true"], mounts=[(tmp_path, "relative/path", "ro")])
    _assert_one_line_error(res)
    res = run_sandbox(["true"], mounts=[(tmp_path, "/proc", "rw")])
    _assert_one_line_error(res)


def test_bad_manifest_key(tmp_path: Path) -> None:
    share = tmp_path / "share"
    share.mkdir()
    manifest = tmp_path / "m.toml"
    manifest.write_text(
        textwrap.dedent(f"""\
        [process]
        argv = ["touch", "/share/started"]
        no_such_key = 1

        [[mounts]]
        host = "{share}"
        sandbox = "/share"
        mode = "rw"
        """)
    )
    res = run_sandbox([], options=["--manifest", str(manifest)])
    _assert_one_line_error(res)
    assert "process.no_such_key" in res.stderr
    assert not (share / "started").exists()  # nothing was started
    # The same manifest without the bad key does run the program.
    manifest.write_text(manifest.read_text().replace("no_such_key = 1\n", ""))
    ok = run_sandbox([], options=["--manifest", str(manifest)])
    assert ok.returncode == 0, ok.stderr
    assert (share / "started").exists()


@pytest.mark.parametrize(
    "toml, key",
    [
        ("[limits]\nmemory_mb = 'lots'\n", "limits.memory_mb"),
        ("[identity]\nhostname = 3\n", "identity.hostname"),
        ("[[mounts]]\nhost = '/tmp'\nsandbox = '/x'\nbogus = 'y'\n", "mounts[0].bogus"),
        ("unknown_top = true\n", "unknown_top"),
    ],
)
def test_bad_manifest_values(toml: str, key: str, tmp_path: Path) -> None:
    manifest = tmp_path / "m.toml"
    manifest.write_text(toml)
    res = run_sandbox(["true"], options=["--manifest", str(manifest)])
    _assert_one_line_error(res)
    assert key in res.stderr


# --------------------------------------------------------------------------- the sandbox's file-system view


def test_system_dirs_are_copy_on_write_and_discarded(tmp_path: Path) -> None:
    before = Path("/etc/hostname").read_bytes() if os.path.exists("/etc/hostname") else None
    marker = f"/tmp/motte-marker-{uuid.uuid4().hex[:8]}"
    sb = run_sandbox(
        [
            "sh",
            "-c",
            f'echo x > {marker} && cat {marker} && echo y > /etc/hostname; echo "etc write $?"; '
            f"touch {SANDBOX_HOME}/in-home && ls {SANDBOX_HOME}",
        ]
    )
    assert sb.returncode == 0, sb.stderr
    assert sb.stdout.splitlines()[0] == "x"
    assert "in-home" in sb.stdout
    assert not os.path.exists(marker)  # the sandbox's /tmp is private
    if before is not None:
        assert Path("/etc/hostname").read_bytes() == before
    again = run_sandbox(["sh", "-c", f"ls -A {SANDBOX_HOME}; test -e {marker}; echo $?"])
    assert again.stdout == "1\n", again.stdout


def test_ro_mount_refuses_writes(tmp_path: Path) -> None:
    share = tmp_path / "ro"
    share.mkdir()
    (share / "f").write_text("keep\n")
    cmd = 'echo new > /ro/f; echo "write $?"; touch /ro/g; echo "touch $?"; rm /ro/f; echo "rm $?"; cat /ro/f'
    sb = run_sandbox(["sh", "-c", cmd], mounts=[(share, "/ro", "ro")])
    assert sb.stdout.splitlines() == ["write 2", "touch 1", "rm 1", "keep"], sb.stdout + sb.stderr
    assert re.search(r"[Rr]ead-only file system", sb.stderr), sb.stderr
    assert (share / "f").read_text() == "keep\n"
    assert sorted(p.name for p in share.iterdir()) == ["f"]


def test_normalise_helper_is_literal() -> None:
    # Guard for the helper used above: it must not touch unrelated text.
    assert normalise("a/tmp/x b", {"/tmp/x": "/d"}) == "a/d b"
    assert ls_owner_to_sandbox("-rw-r--r-- 1 nobody nogroup 4 Jan 1 x\n") == "-rw-r--r-- 1 nobody nogroup 4 Jan 1 x\n"


# -- host files as standard streams (monitor/stdio.py relays them) -----------


def _shell_into_files(cmd: list[str], tmp_path: Path, tag: str, script: str) -> tuple[bytes, bytes, int]:
    """Run `cmd sh -c script` with stdout appended to a log that holds a line
    already, stderr into a truncated file, stdin a writable file (`<>`)."""
    d = tmp_path / tag
    d.mkdir()
    (d / "out").write_bytes(b"EXISTING-LINE\n")
    (d / "in").write_bytes(b"input-1\ninput-2\n")
    with open(d / "out", "ab") as out, open(d / "err", "wb") as err, open(d / "in", "r+b") as inp:
        p = subprocess.run([*cmd, "sh", "-c", script], stdin=inp, stdout=out, stderr=err, timeout=120)
    return (d / "out").read_bytes(), (d / "err").read_bytes(), p.returncode


def test_host_files_as_stdio_get_what_native_gets(tmp_path: Path) -> None:
    """`prog >> log 2> err <> in`: the same bytes as natively, in order, and 8 MB
    through stdout; the program sees pipes, so it cannot seek into the log."""
    script = (
        "read a; read b; echo got:$a:$b; echo to-err >&2; "
        "head -c 8388608 /dev/zero | tr '\\0' x; echo; echo last; exit 3"
    )
    native = _shell_into_files([], tmp_path, "native", script)
    sandbox = _shell_into_files([MOTTE, "run", "--"], tmp_path, "sandbox", script)
    assert native[2] == sandbox[2] == 3
    assert sandbox[1] == native[1] == b"to-err\n"
    assert sandbox[0] == native[0], (len(native[0]), len(sandbox[0]), sandbox[0][:60])
    assert sandbox[0].startswith(b"EXISTING-LINE\ngot:input-1:input-2\n")


OPATH_PROGRAM = r"""
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
/* O_PATH opens of names through /proc: the library OS serves /proc, and
 * only the kernel makes O_PATH files, so these take a way of their own */
static void t(const char *name, const char *path, int flags) {
    errno = 0;
    int fd = open(path, flags);
    struct stat s;
    if (fd < 0) {
        printf("%s: %s\n", name, strerror(errno));
        return;
    }
    fstat(fd, &s);
    printf("%s: ok, %s\n", name, S_ISDIR(s.st_mode) ? "directory" : S_ISREG(s.st_mode) ? "file" : "other");
    close(fd);
}
int main(void) {
    char p[64];
    int d = open("/usr", O_RDONLY | O_DIRECTORY);
    snprintf(p, sizeof p, "/proc/self/fd/%d", d);
    t("own fd, a directory", p, O_PATH);
    t("own fd, O_DIRECTORY", p, O_PATH | O_DIRECTORY);
    int f = open("/usr/bin/env", O_PATH);
    snprintf(p, sizeof p, "/proc/self/fd/%d", f);
    t("own O_PATH fd", p, O_PATH);
    t("own O_PATH fd, O_DIRECTORY", p, O_PATH | O_DIRECTORY);
    t("/proc/self/root/usr/bin/env", "/proc/self/root/usr/bin/env", O_PATH);
    t("/proc/self/root/usr, O_DIRECTORY", "/proc/self/root/usr", O_PATH | O_DIRECTORY);
    t("/proc/self/cwd", "/proc/self/cwd", O_PATH);
    t("/proc/self/root/nonexistent", "/proc/self/root/nonexistent", O_PATH);
    t("/proc/self/root/usr/bin/env/x", "/proc/self/root/usr/bin/env/x", O_PATH);
    t("/proc/self", "/proc/self", O_PATH);
    t("/proc/self/status", "/proc/self/status", O_PATH);
    /* an O_PATH open of a FIFO through /proc opens nothing: a writer blocked
     * waiting for a reader stays blocked (whatever the open answers) */
    mkfifo("/tmp/opath-fifo", 0600);
    pid_t w = fork();
    if (w == 0) {
        open("/tmp/opath-fifo", O_WRONLY);
        _exit(0);
    }
    usleep(100000);
    int pf = open("/proc/self/root/tmp/opath-fifo", O_PATH);
    usleep(100000);
    printf("FIFO writer %s\n", waitpid(w, NULL, WNOHANG) == 0 ? "still blocked" : "woken");
    kill(w, SIGKILL);
    waitpid(w, NULL, 0);
    if (pf >= 0)
        close(pf);
    unlink("/tmp/opath-fifo");
    return 0;
}
"""


def test_opath_opens_through_proc_match_native(tmp_path: Path) -> None:
    _require("gcc")
    src = _write(tmp_path / "opath.c", OPATH_PROGRAM)
    subprocess.run(["gcc", "-O1", "-o", tmp_path / "opath", src], check=True)
    (tmp_path / "opath").chmod(0o755)
    tmp_path.chmod(0o755)
    nat = run_native([tmp_path / "opath"], cwd=tmp_path)
    sb = run_sandbox(["/t/opath"], mounts=[(tmp_path, "/t", "ro")], workdir="/t")
    assert "own fd, a directory: ok, directory" in nat.stdout, nat.stdout
    assert_same(sb, nat)


def test_stdout_and_stderr_into_one_host_file_keep_every_line_in_order(tmp_path: Path) -> None:
    """`prog > log 2>&1`: one open file for both streams; every line of each
    arrives, interleaved as natively (they share one pipe in the sandbox)."""
    script = "i=0; while [ $i -lt 3000 ]; do echo out$i; echo err$i >&2; i=$((i+1)); done"
    outs = []
    for cmd in ([], [MOTTE, "run", "--"]):
        log = tmp_path / f"log{len(outs)}"
        with open(log, "wb") as f:
            subprocess.run([*cmd, "sh", "-c", script], stdin=subprocess.DEVNULL, stdout=f, stderr=f, timeout=120)
        outs.append(log.read_bytes())
    assert outs[0].count(b"\n") == 6000
    assert outs[1] == outs[0], (len(outs[0]), len(outs[1]))


XATTR_SCRIPT = r"""
import errno, os, sys
d = sys.argv[1]
f = os.path.join(d, "f")
open(f, "w").close()
os.symlink("f", os.path.join(d, "l"))
def t(name, fn):
    try:
        r = fn()
        print(name, "ok", r if r is not None else "")
    except OSError as e:
        print(name, errno.errorcode[e.errno])
t("set", lambda: os.setxattr(f, "user.a", b"1"))
t("set_create_again", lambda: os.setxattr(f, "user.a", b"2", os.XATTR_CREATE))
t("set_replace", lambda: os.setxattr(f, "user.a", b"3", os.XATTR_REPLACE))
t("replace_missing", lambda: os.setxattr(f, "user.b", b"3", os.XATTR_REPLACE))
t("get", lambda: os.getxattr(f, "user.a"))
t("via_link", lambda: os.getxattr(os.path.join(d, "l"), "user.a"))
t("lset_symlink", lambda: os.setxattr(os.path.join(d, "l"), "user.c", b"1", follow_symlinks=False))
t("list", lambda: sorted(os.listxattr(f)))
t("fd_set", lambda: os.setxattr(os.open(f, os.O_RDONLY), "user.d", b"4"))
t("too_big", lambda: os.setxattr(f, "user.e", b"x" * 70000))
t("bad_namespace", lambda: os.setxattr(f, "nonsense.a", b"1"))
t("remove", lambda: os.removexattr(f, "user.a"))
t("remove_missing", lambda: os.removexattr(f, "user.a"))
t("missing_file", lambda: os.setxattr(os.path.join(d, "nope"), "user.a", b"1"))
t("list_after", lambda: sorted(os.listxattr(f)))
"""


def test_extended_attributes_match_native(tmp_path: Path) -> None:
    """user.* attributes, now set and removed by the library OS: the same
    answers as natively, on a file in /tmp (tmpfs both ways)."""
    script = _write(tmp_path / "x.py", XATTR_SCRIPT)
    tmp_path.chmod(0o755)
    native_dir = Path("/dev/shm") / f"motte-xattr-{uuid.uuid4().hex}"
    native_dir.mkdir()
    try:
        nat = run_native([SYSTEM_PYTHON, script, native_dir])
    finally:
        shutil.rmtree(native_dir, ignore_errors=True)
    sb = run_sandbox(["python3", "/s/x.py", "/tmp"], mounts=[(tmp_path, "/s", "ro")])
    assert "set ok" in nat.stdout, nat.stdout + nat.stderr
    assert_same(sb, nat)


@pytest.mark.parametrize("closed", ["1>&-", "0<&- 1>&-", "0<&- 1>&- 2>&-"])
def test_closed_standard_streams_stay_closed(tmp_path: Path, closed: str) -> None:
    """motte started without some of fds 0-2: the program runs without them
    too, as natively (motte's own pipes must not land there)."""
    results = []
    for tag, prefix in (("native", ""), ("sandbox", f"{MOTTE} run -- ")):
        d = tmp_path / tag
        d.mkdir()
        d.chmod(0o777)
        out = d / "report"
        # the report goes to a file of a directory mounted into the sandbox
        mount = f"--mount {d}:/r:rw " if prefix else ""
        rpath = "/r/report" if prefix else str(out)
        # the shell itself looks (ls would list its own directory fd, which
        # natively takes the lowest free number)
        probe = (
            f"for n in 0 1 2; do if [ -e /proc/$$/fd/$n ]; then echo fd$n; fi; done > {rpath}; "
            f"echo x 2>/dev/null; echo status=$? >> {rpath}"
        )
        cmd = f"{prefix.replace('run -- ', 'run ' + mount + '-- ')}sh -c '{probe}' {closed}; echo exit=$? > {d}/exit"
        subprocess.run(["sh", "-c", cmd], stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
        results.append(((d / "report").read_text().split(), (d / "exit").read_text()))
    assert results[0][1] == results[1][1] == "exit=0\n", results
    assert results[1][0] == results[0][0], results
    assert "status=1" in results[0][0], results  # echo to a closed stdout fails, both ways
