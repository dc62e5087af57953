"""gunicorn's access log without secrets: the Omie webhook token (a path segment) is masked.

Set as ``logger_class`` in config/gunicorn.py (docker/start-web and the Procfile run gunicorn with it).
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from common.logging import redact


class RedactingLogger(Logger):
    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        return atoms
