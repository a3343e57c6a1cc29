"""`python -m breathring.web`: the same as `breathring web`."""

import sys

from .cli import main

sys.exit(main())
