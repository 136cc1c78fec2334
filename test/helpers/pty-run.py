"""Runs a command at a terminal of its own, as a person would in a terminal window.

Usage: pty-run.py OUT COLUMNS ROWS [AFTER_S NEW_COLUMNS NEW_ROWS] -- COMMAND [ARGS...]

The command runs in a new session whose controlling terminal is a pseudo-terminal of COLUMNS x ROWS
(resized to NEW_COLUMNS x NEW_ROWS after AFTER_S seconds, as a window is: the kernel sends SIGWINCH);
every byte written to that terminal is saved to OUT, and this exits with the command's exit status
(128 + the signal's number when a signal ended it), once everything that holds the terminal is gone.
"""

import errno
import fcntl
import os
import pty
import select
import struct
import sys
import termios
import time

dashes = sys.argv.index("--")
out, columns, rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
resize = [float(a) for a in sys.argv[4:dashes]]
argv = sys.argv[dashes + 1 :]

pid, master = pty.fork()
if pid == 0:
    # The size first, so that the command never sees another one.
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    os.execvp(argv[0], argv)

captured = bytearray()
started = time.monotonic()
while True:
    if resize and time.monotonic() - started >= resize[0]:
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", int(resize[2]), int(resize[1]), 0, 0))
        resize = []
    if not select.select([master], [], [], 0.05)[0]:
        continue
    try:
        chunk = os.read(master, 65536)
    except OSError as error:
        if error.errno == errno.EIO:
            break
        raise
    if not chunk:
        break
    captured += chunk
_, status = os.waitpid(pid, 0)
with open(out, "wb") as f:
    f.write(captured)
sys.exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))
