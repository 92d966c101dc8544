"""Building and rewriting a large expression makes many small immutable objects and no
reference cycles worth collecting, yet Python's cyclic garbage collector walks every live object
at each of its full passes, whose number grows with the objects made: over a 10,000-layer
network's ``grad`` and ``compile`` that is a quarter of the time, and what makes them grow faster
than linearly. :func:`without_collector_pauses` turns the collector off for the duration of such
a call (reference counting still frees everything at once) and back on after, as it was.

>>> import gc
>>> @without_collector_pauses
... def work():
...     return gc.isenabled()
>>> work(), gc.isenabled()
(False, True)
"""

from __future__ import annotations

import functools
import gc


def without_collector_pauses(function):
    """``function`` run with the cyclic garbage collector off (restored after, also on error)."""
    @functools.wraps(function)
    def run(*args, **kwargs):
        if not gc.isenabled():  # nested, or the caller turned it off: leave it as it is
            return function(*args, **kwargs)
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            gc.enable()
    return run
