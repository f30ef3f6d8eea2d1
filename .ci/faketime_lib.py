"""Print the path of the libfaketime preload library that the PyPI package `libfaketime` carries.

Debian bookworm's libfaketime 0.9.10 cannot run Python 3.11 threads: with the monotonic clock
faked, timed lock waits (sem_clockwait) never return; with it left alone, time.sleep fails with
EINVAL (wolfcw/libfaketime#390, #426). The build inside the PyPI package has both fixes.
"""
import os

import libfaketime

print(os.path.join(os.path.dirname(libfaketime.__file__), "vendor", "libfaketime", "src", "libfaketime.so.1"))
