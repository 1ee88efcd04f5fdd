"""ctypes bindings to the host kernel interfaces motte needs.

Nothing here knows about sandboxes: these are thin, typed wrappers over
system calls that Python's standard library does not expose.
"""
