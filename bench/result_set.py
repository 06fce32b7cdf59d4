"""``python -m bench.result_set FOLDER``: check that a folder holds one consistent result set."""

import sys

from bench.report.publish import main

if __name__ == "__main__":
    sys.exit(main())
