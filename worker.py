"""Run one grievance worker: ``python worker.py`` (the Temporal samples' entry point).

The design card names a root ``worker.py``, as every Temporal sample has. It only
delegates: ``grievance worker`` reads the settings (``TEMPORAL_ADDRESS``,
``DATABASE_URL`` ...), connects the one client and runs
:func:`grievance_flow.worker.run_worker` until SIGINT or SIGTERM. Its arguments
are the command's, so ``python worker.py --help`` shows them.
"""

from __future__ import annotations

import sys

from grievance_flow.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["worker", *sys.argv[1:]]))
