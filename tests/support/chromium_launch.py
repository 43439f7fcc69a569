"""Where the browser tests find Chromium and the flags that let it run headless on a closed network."""

import os
from pathlib import Path

CHROMIUM = Path(os.environ.get("RFTOY_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
