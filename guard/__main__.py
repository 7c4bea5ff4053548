import signal
import sys

if sys.argv[1:2] == ["serve"]:
    # a reload signal while guard starts would end it (SIGHUP's default) before it listens for
    # one: ignored until the server's own handler is in place (`app`)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)

from guard.cli import main

sys.exit(main())
