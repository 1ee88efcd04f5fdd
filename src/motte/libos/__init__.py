"""The library OS: services every system call a picoprocess may not make
directly, and so provides the Linux personality the program sees.

Layout:
  dispatch.py        the loop: receive a trapped call, find its handler, reply
  syscalls/table.py  number -> handler, support level and note (data)
  syscalls/*.py      thin handlers, one module per family
  fs/                path resolution inside the sandbox root, /proc
  process.py         processes, credentials, the sandbox's state
  memory.py          reading and writing a picoprocess's memory

It reaches the host only through file descriptors the monitor handed it (the
sandbox root and the notification listener) and through /proc/PID of its own
picoprocesses.
"""
