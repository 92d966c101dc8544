"""Shared test configuration: hypothesis profiles.

``HYPOTHESIS_PROFILE`` picks one (default ``ci``):

* ``ci`` – bounded and derandomized, so CI runs the same examples every time;
* ``dev`` – a few more examples, random seeds, for local work;
* ``soak`` – thousands of examples per property, for a long run before a release::

      HYPOTHESIS_PROFILE=soak .venv/bin/python -m pytest tests/test_properties.py
"""

import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/fd.py, importable as `fd`

_QUIET = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]

settings.register_profile("ci", max_examples=50, deadline=None, derandomize=True,
                          print_blob=True, suppress_health_check=_QUIET)
settings.register_profile("dev", max_examples=100, deadline=None, print_blob=True,
                          suppress_health_check=_QUIET)
settings.register_profile("soak", max_examples=2500, deadline=None, print_blob=True,
                          suppress_health_check=_QUIET)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
