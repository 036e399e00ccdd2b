"""Cut this process off the network: a new, empty network namespace in which only loopback is up.

Linux only. A namespace belongs to a thread and is inherited by the threads and processes it creates
afterwards, so call `isolate()` before any other thread exists (Python 3.11 has no os.unshare).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import os
import socket
import struct
import sys

CLONE_NEWNET = 0x40000000                     # <sched.h>
SIOCGIFFLAGS, SIOCSIFFLAGS = 0x8913, 0x8914   # <linux/sockios.h>
IFF_UP = 0x1                                  # <net/if.h>
IFREQ = "16sH22x"                             # struct ifreq: name, then the flags of a 24-byte union


def isolate() -> str | None:
    """Enter a new network namespace with loopback up: None on success, else why it is not allowed."""
    if sys.platform != "linux":
        return f"network namespaces need Linux, this is {sys.platform}"
    threads = len(os.listdir("/proc/self/task"))
    if threads > 1:  # the other threads would stay on the network
        return f"the process already runs {threads} threads"
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    with open("/proc/self/ns/net") as original:
        if libc.unshare(CLONE_NEWNET) != 0:
            return _reason("unshare(CLONE_NEWNET)", ctypes.get_errno())
        try:
            _bring_up("lo")
        except OSError as exc:
            libc.setns(original.fileno(), CLONE_NEWNET)  # without loopback nothing local works: go back
            return _reason("bringing up loopback", exc.errno)
    return None


def _bring_up(interface: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        name = interface.encode()
        _, flags = struct.unpack(IFREQ, fcntl.ioctl(s, SIOCGIFFLAGS, struct.pack(IFREQ, name, 0)))
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack(IFREQ, name, flags | IFF_UP))


def _reason(step: str, code: int | None) -> str:
    return f"{step} failed: {errno.errorcode.get(code, code)} ({os.strerror(code or 0)})"
