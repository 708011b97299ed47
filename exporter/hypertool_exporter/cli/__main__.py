"""``python -m hypertool_exporter.cli``: the same as the ``hypertool-exporter`` command."""

import sys

from .main import main

sys.exit(main())
