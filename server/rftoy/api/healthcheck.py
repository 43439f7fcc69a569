"""`python -m rftoy.api.healthcheck`: exit 0 when the local server answers /api/health with status ok (Docker's check).

The port is $PORT (as the image's command uses), else RFTOY_PORT, else DEFAULT_PORT (the settings' default, which
a test holds it to). It imports neither torch nor the app, so a check every 30 s costs next to nothing.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request

DEFAULT_PORT = 8000


def health_url() -> str:
    port = os.environ.get("PORT") or os.environ.get("RFTOY_PORT") or str(DEFAULT_PORT)
    return f"http://127.0.0.1:{port}/api/health"


def main() -> int:
    try:
        with urllib.request.urlopen(health_url(), timeout=5) as response:
            status = json.load(response).get("status")
    except (OSError, ValueError) as error:
        print(f"rftoy health check failed: {error}", file=sys.stderr)
        return 1
    if status != "ok":
        print(f"rftoy health check: status {status!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
