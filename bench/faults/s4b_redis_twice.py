#!/usr/bin/env python
"""Scenario 4b: Redis SIGKILLed twice within 3 s mid-run (see s4_redis_restart.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from s4_redis_restart import main

if __name__ == "__main__":
    sys.exit(main("s4b_redis_twice", pattern="twice"))
