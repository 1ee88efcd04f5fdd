"""The library OS's loop: receive a trapped call, run its handler, reply.

One thread receives; handlers run inline (they do not block) except those
that return `Deferred`, which finish on a worker thread, so one process
waiting on a FIFO or a slow peer never stalls the others. Every failure of a
handler becomes an errno for the caller, never a crash of the library OS.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

from motte.kernel import libc, seccomp
from motte.kernel.sysnums import NAMES_X86_64
from motte.libos.call import Call, Continue, Deferred, InstallFd
from motte.libos.kernel import LibOS
from motte.libos.syscalls.table import TABLE, Entry
from motte.libos.trace import format_call


class Dispatcher:
    def __init__(self, libos: LibOS, listener: seccomp.Listener, trace: TextIO | None, debug: bool) -> None:
        self.os = libos
        self.listener = listener
        self.trace = trace
        self.debug = debug
        self.table = TABLE
        self.trace_lock = threading.Lock()
        self.calls = 0
        self.stopping = False
        self.by_tid = libos.procs.by_tid  # the same dict, read without a call
        self.thread_id: int | None = None
        self.done = threading.Event()
        self.on_death: Callable[[], None] | None = None
        # Deferred calls in progress: notification id -> the worker's thread
        # (see _watch_deferred).
        self.deferred: dict[int, threading.Thread] = {}
        self.deferred_cv = threading.Condition()
        self.watchdog: threading.Thread | None = None

    def serve(self) -> None:
        """Serve until every process of the sandbox has gone and `stop` is
        called. RECV blocks in the kernel; `stop` interrupts it with a
        signal, so the hot loop makes no extra poll call per trapped call."""
        profile = os.environ.get("MOTTE_PROFILE")
        prof = None
        if profile:
            import cProfile

            prof = cProfile.Profile()
            prof.enable()
        # The library OS's thread (and the threads it starts) runs with no
        # effective capability: it meets the permission checks an
        # unprivileged owner of the sandbox's files would, even under root.
        libc.drop_effective_capabilities()
        # Everything allocated so far (modules, tables) lives as long as motte:
        # keep the cyclic collector off it, and let it run less often, so that
        # no trapped call waits behind a full collection.
        gc.freeze()
        gc.set_threshold(20000, 50, 50)
        self.thread_id = threading.get_ident()
        recv = self.listener.recv
        handle = self.handle
        try:
            while not self.stopping:
                n = recv()
                if n is None:
                    continue
                try:
                    handle(n[0], n[1], n[3], n[6:])
                except Exception:  # a bug outside any handler: answer, log, serve on
                    self._internal_error(None)
                    self.listener.send(n[0], 0, -errno.EIO)
        except BaseException:
            # The loop itself failed: no one would answer the sandbox's calls
            # any more, so the sandbox must not outlive it.
            self._internal_error(None)
            if self.on_death is not None:
                self.on_death()
            raise
        finally:
            if prof is not None:
                prof.disable()
                prof.dump_stats(profile)
            self.done.set()

    def stop(self) -> None:
        """Called once pid 1 has ended (the pid namespace, and so every
        picoprocess, is gone): wake the loop out of RECV."""
        self.stopping = True
        with self.deferred_cv:
            self.deferred_cv.notify_all()
        while self.thread_id is None:
            time.sleep(0.001)
        for _ in range(200):
            if self.done.is_set():
                return
            signal.pthread_kill(self.thread_id, signal.SIGUSR1)
            if self.done.wait(0.01):
                return

    def handle(self, notif_id: int, tid: int, nr: int, args: tuple[int, ...]) -> None:
        self.calls += 1
        entry = self.table.get(nr)
        t0 = time.perf_counter() if self.trace else 0.0
        if entry is None:
            self.os.log_unsupported(nr)
            t1 = time.perf_counter() if self.trace else 0.0
            self.reply(notif_id, -errno.ENOSYS)
            if self.trace:
                self._trace(tid, NAMES_X86_64.get(nr, f"syscall_{nr}"), "", -errno.ENOSYS, t0, t1)
            return
        try:
            proc = self.by_tid.get(tid) or self.os.procs.lookup(tid)
        except OSError:
            # The caller vanished (killed) between the trap and now.
            self.reply(notif_id, -errno.ESRCH)
            return
        call = Call(self.os, notif_id, tid, proc, nr, args)
        # Decoded before the call runs: afterwards an exec may have replaced
        # the memory the arguments point into.
        shown_args = self._args(call, entry) if self.trace else ""
        try:
            result = entry.handler(call, *args[: entry.nargs])
        except OSError as e:
            result = -(e.errno or errno.EIO)
        except RecursionError:
            # Only a loop of links through /proc (a /proc/self/root that
            # leads back into /proc) recurses this deep: the kernel's answer.
            result = -errno.ELOOP
        except Exception:
            self._internal_error(entry)
            result = -errno.EIO
        if type(result) is int and not self.trace:  # the common case, answered at once
            if result < 0:
                self.listener.send(notif_id, 0, result)
            else:
                self.listener.send(notif_id, result, 0)
            return
        if isinstance(result, Deferred):
            # Rare (a FIFO open waiting for its peer): a thread of its own.
            worker = threading.Thread(
                target=self._finish_deferred,
                args=(notif_id, entry, call, result, shown_args, t0),
                name="motte-deferred",
                daemon=True,
            )
            with self.deferred_cv:
                self.deferred[notif_id] = worker
                if self.watchdog is None:
                    self.watchdog = threading.Thread(target=self._watch_deferred, name="motte-watchdog", daemon=True)
                    self.watchdog.start()
                self.deferred_cv.notify()
            worker.start()
            return
        # Timed before the reply: once answered, the caller may run on this
        # CPU before SEND returns, and its time is not the call's.
        t1 = time.perf_counter() if self.trace else 0.0
        shown = self.reply(notif_id, result)
        if self.trace:
            self._trace(tid, entry.name, shown_args, shown, t0, t1)

    def _finish_deferred(
        self, notif_id: int, entry: Entry, call: Call, d: Deferred, shown_args: str, t0: float
    ) -> None:
        # Replies from this thread use buffers of their own: the listener's
        # are the serving thread's.
        mine = seccomp.Listener(self.listener.fd)
        try:
            try:
                result: int | InstallFd = d.work(lambda: mine.id_valid(notif_id))
            except OSError as e:
                result = -(e.errno or errno.EIO)
            except Exception:
                self._internal_error(entry)
                result = -errno.EIO
            t1 = time.perf_counter() if self.trace else 0.0
            shown = self.reply(notif_id, result, mine)
            if self.trace:
                self._trace(call.tid, entry.name, shown_args, shown, t0, t1)
        finally:
            with self.deferred_cv:
                self.deferred.pop(notif_id, None)

    def _watch_deferred(self) -> None:
        """A deferred call whose caller was killed would wait for good (a
        FIFO's peer may never come): every quarter second, a worker whose
        caller is gone gets a signal that interrupts its wait (EINTR), and
        its `still_wanted` then says to give up."""
        mine = seccomp.Listener(self.listener.fd)
        while not self.stopping:
            with self.deferred_cv:
                while not self.deferred and not self.stopping:
                    self.deferred_cv.wait()
                pending = list(self.deferred.items())
            for notif_id, worker in pending:
                if worker.ident is not None and worker.is_alive() and not mine.id_valid(notif_id):
                    with contextlib.suppress(ProcessLookupError):
                        signal.pthread_kill(worker.ident, signal.SIGUSR1)
            time.sleep(0.25)

    def reply(
        self, notif_id: int, result: int | Continue | InstallFd | None, listener: seccomp.Listener | None = None
    ) -> int | str:
        """Send the answer; returns what the trace shows."""
        lst = listener or self.listener
        if type(result) is int:  # the common case first
            if result < 0:
                lst.send(notif_id, 0, result)
            else:
                lst.send(notif_id, result, 0)
            return result
        if isinstance(result, Continue):
            lst.send(notif_id, 0, 0, seccomp.SECCOMP_USER_NOTIF_FLAG_CONTINUE)
            return "(kernel)"
        if isinstance(result, InstallFd):
            try:
                return lst.addfd(notif_id, result.fd, os.O_CLOEXEC if result.cloexec else 0, send=True)
            except OSError as e:
                # EMFILE from the caller's RLIMIT_NOFILE, or the caller is gone.
                if e.errno != errno.ENOENT:
                    lst.send(notif_id, 0, -e.errno)
                return -(e.errno or errno.EIO)
            finally:
                os.close(result.fd)
        if result is None:
            result = 0
        if result < 0:
            lst.send(notif_id, 0, result)
        else:
            lst.send(notif_id, result, 0)
        return result

    def _internal_error(self, entry: Entry | None) -> None:
        """A bug in a handler: the caller gets EIO, the log gets the trace."""
        import traceback

        where = entry.name if entry is not None else "the dispatcher"
        self.os.log(f"internal error in {where}: {traceback.format_exc(limit=3).strip()}")
        if self.debug:
            traceback.print_exc(file=sys.stderr)

    def _args(self, call: Call, entry: Entry) -> str:
        try:
            return format_call(call, entry.argtypes)
        except Exception:
            return "?"

    def _trace(self, tid: int, name: str, args: str, result: int | str, t0: float, t1: float) -> None:
        us = (t1 - t0) * 1e6
        if isinstance(result, int) and result < 0:
            res = f"-1 {errno.errorcode.get(-result, str(-result))}"
        else:
            res = str(result)
        pid = self.os.procs.by_tid.get(tid)
        line = f"[{pid.pid if pid else '?'}] {name}({args}) = {res} <{us:.1f}us>\n"
        with self.trace_lock:
            assert self.trace is not None
            self.trace.write(line)
