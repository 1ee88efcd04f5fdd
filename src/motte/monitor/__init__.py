"""The security monitor: the only code that touches host names.

It turns the manifest into a view (which host directories appear where, read
only or read-write), opens those host directories, builds the sandbox's
namespaces and its kernel-visible root from them, and hands the library OS
nothing but file descriptors inside that root. The library OS never sees a
host path; tests/test_boundary.py checks that it imports nothing that could
name one.
"""
