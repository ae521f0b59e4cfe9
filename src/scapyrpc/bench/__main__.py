"""`python -m scapyrpc.bench`."""

import sys

from scapyrpc.bench.cli import main

if __name__ == "__main__":
    sys.exit(main())
