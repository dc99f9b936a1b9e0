#!/usr/bin/python3
# waiting: waiting for an event by polling its condition, bounded by a
# timeout (the booted-systemd tests have no event source to block on for
# most of what they wait for: a unit's state, a file, a journal record).

import os
import time

# Bounds are scaled for slow machines (the kernel61 guest is emulated).
SCALE = max(1.0, float(os.environ.get('VCM_TEST_TIMEOUT_MULTIPLIER') or 1))


class Timeout(AssertionError):
    pass


def wait_until(predicate, timeout=30.0, interval=0.02, what='the condition'):
    """Calls @predicate until it returns something true, and returns that.
    Exceptions from @predicate propagate. Raises Timeout after @timeout
    seconds, naming @what."""
    timeout *= SCALE
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise Timeout('timed out after %.1f s waiting for %s' % (timeout, what))
        time.sleep(interval)
