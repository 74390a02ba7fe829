"""Put a freshly built site in place of the old one in one step.

``make html`` builds into ``build/html.new``; ``python -m handbook_tools publish`` (the
CLI's one path to this module) swaps it with ``build/html``.  On Linux
the two folders are exchanged atomically (``renameat2`` with ``RENAME_EXCHANGE``), so a
reader of ``build/html`` (``make serve``, a web server) sees the old site or the new one,
never none and never a mix.  Where the exchange is not available, the old site is moved
aside and the new one moved in: two renames, with a moment without ``build/html``.
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
from pathlib import Path

AT_FDCWD = -100
RENAME_EXCHANGE = 2


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically; False when the system or file system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    if renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))


def publish(new: Path, target: Path) -> None:
    """Replace ``target`` (a folder, or nothing yet) by ``new``; ``new`` is used up."""
    if not target.exists():
        os.rename(new, target)
        return
    if exchange(new, target):
        shutil.rmtree(new)  # it now holds the old site
        return
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    os.rename(target, old)
    os.rename(new, target)
    shutil.rmtree(old)
