"""`python -m core`: the command line; everything is in core/cli/."""

import sys

from .cli.main import main

sys.exit(main())
