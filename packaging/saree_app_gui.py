"""Bundle entry point of the desktop application: PyInstaller runs this file as __main__."""

import multiprocessing
import sys

if __name__ == "__main__":
    # A frozen app re-runs itself for worker processes; this hands those runs to the worker.
    multiprocessing.freeze_support()
    from saree_app.gui.app import main

    sys.exit(main())
