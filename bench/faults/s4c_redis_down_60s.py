#!/usr/bin/env python
"""Scenario 4c: Redis stopped for 60 s mid-run; the worker must survive the outage and resume (see s4_redis_restart.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from s4_redis_restart import main

if __name__ == "__main__":
    sys.exit(main("s4c_redis_down_60s", pattern="stop", down_seconds=60))
