"""Bundle entry point of the `saree` command line: PyInstaller runs this file as __main__."""

import multiprocessing
import sys

if __name__ == "__main__":
    # A frozen app re-runs itself for worker processes; this hands those runs to the worker.
    multiprocessing.freeze_support()
    from saree_app.cli import main

    sys.exit(main())
