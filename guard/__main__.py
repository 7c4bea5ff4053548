import signal
import sys

from guard.errors import (
    StoppedStarting,
    asks_check,
    stop_while_checking,
    stop_while_starting,
    stopped_starting,
)

try:
    # (inside the try: a stop signal heard just as its handler is set raises there)
    if sys.argv[1:2] == ["serve"]:
        # a reload signal while guard starts would end it (SIGHUP's default) before it listens
        # for one: ignored until the server's own handler is in place (`app`)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        # a stop signal while it starts (a pod deleted as it starts) ends it, exit status 0;
        # while it checks (--check), 128 + the signal's number: a check cut short is no verdict
        stop = stop_while_checking if asks_check(sys.argv[2:]) else stop_while_starting
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

    from guard.cli import main

    status = main()
    # the command has answered (a check its verdict): a stop or reload signal from here on is
    # moot, not a traceback from the start-up handler raising as the interpreter ends
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
except StoppedStarting as stopped:  # while guard.cli was imported (or the handlers set)
    status = stopped_starting(stopped)
sys.exit(status)
