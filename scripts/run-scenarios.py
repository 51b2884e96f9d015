#!/usr/bin/env python3
"""Run the shared conformance scenarios (a read-only pytest + boto3 suite) against
a freshly started Strongbox binary.

Usage: STRONGBOX_BIN=path/to/strongbox run-scenarios.py SCENARIOS_DIR [pytest args...]

Scenarios listed in tests/scenarios-not-yet.txt (one pytest node id per line,
with the issue that will make it pass) are deselected, so that CI tracks every
other scenario; the file shrinks as issues land.
"""

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "e2e"))
from server import running_server  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def not_yet():
    path = ROOT / "tests" / "scenarios-not-yet.txt"
    if not path.exists():
        return []
    ids = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            ids.append(line)
    return ids


def main():
    scenarios = Path(sys.argv[1]).resolve()
    extra = sys.argv[2:]
    with running_server() as srv:
        env = dict(os.environ)
        env.update({
            "S3_ENDPOINT": srv.endpoint,
            "ROOT_ACCESS_KEY_ID": srv.access_key,
            "ROOT_SECRET_ACCESS_KEY": srv.secret_key,
            "REGION": "us-east-1",
            "PYTHONDONTWRITEBYTECODE": "1",
        })
        args = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--rootdir", str(scenarios)]
        for node in not_yet():
            args += ["--deselect", node]
        args += extra + [str(scenarios)]
        code = subprocess.call(args, cwd=str(scenarios), env=env)
    # pytest exits 5 when every test was deselected: nothing ran, which is not a pass.
    sys.exit(code)


if __name__ == "__main__":
    main()
