"""The picoprocess: what a sandboxed host process may ask the host kernel
directly (the ABI allowlist), and the seccomp filter generated from it.

Everything not on the allowlist is trapped and delivered to the library OS.
"""
