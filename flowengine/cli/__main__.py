"""`python -m flowengine.cli`."""

import sys

from flowengine.cli import main

sys.exit(main())
