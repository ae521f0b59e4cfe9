"""`python -m scapyrpc` = `scapyrpc serve`."""

import sys

from scapyrpc.cli.main import main

sys.exit(main())
