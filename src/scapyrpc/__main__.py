"""`python -m scapyrpc` = `scapyrpc serve`."""

import sys

from .cli import main

sys.exit(main())
