"""Memory freed by the app goes back to the system, so the cache budget is what the server holds.

glibc's malloc raises its mmap threshold each time a large block is freed (up to 32 MB); from then on buffers of
picture size (a tall screenshot's layers, a render's masks) come from its heaps and, once freed, stay resident
there. Measured in one process with 8 distinct 1440 × 20,000 uploads each rendered as three maps and a full PNG:
1,457 MB resident for 377 MB of cache, 884 MB with the threshold pinned at 1 MB (the same as `malloc_trim` after
every render). Pinning it is process-wide and idempotent; with another C library it does nothing.
"""

from __future__ import annotations

import ctypes
import functools

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
MMAP_THRESHOLD = 1 << 20  # blocks from 1 MB up get their own mapping, unmapped when freed
# Pinning the mmap threshold also stops glibc raising its trim threshold, which stays at 128 KB: each freed strip
# of a picture job (under 1 MB: heatmap.drawing.packed) gave its heap pages back and the next took them again,
# page by page (unpacking a 1440 x 20,000 screenshot took 0.37 s instead of 0.18). A heap keeps up to 8 MB free.
TRIM_THRESHOLD = 8 << 20


@functools.cache
def pin_mmap_threshold(threshold: int = MMAP_THRESHOLD) -> bool:
    """Pin glibc's mmap threshold (no more raising it) and its trim threshold; True if the C library took them."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc, or no C library symbols in this process
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, threshold)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
