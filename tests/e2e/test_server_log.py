"""The server log (issue 18): one info line per denial, plain text without colour when
stderr is not a terminal, and one JSON object per line with --log-format json."""

import json
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import client
from server import running_server


def _anonymous_put(srv, bucket):
    client(srv, "s3").create_bucket(Bucket=bucket)
    req = urllib.request.Request(f"{srv.endpoint}/{bucket}/k", data=b"x", method="PUT")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req)
    assert err.value.code == 403
    return err.value.headers["x-amz-request-id"]


def _log_lines(srv, request_id):
    # The denial line is written on the request path, but give the writer a moment.
    for _ in range(50):
        lines = [l for l in Path(srv.log_path).read_text().splitlines() if request_id in l]
        if lines:
            return lines
        time.sleep(0.05)
    return []


def test_text_log_names_each_denial_without_colour():
    with running_server(extra_env={"STRONGBOX_LOG": "info"}) as srv:
        request_id = _anonymous_put(srv, "log-text")
        lines = _log_lines(srv, request_id)
        assert len(lines) == 1, lines
        line = lines[0]
        assert "access denied" in line and "INFO" in line
        assert "action=s3:PutObject" in line
        assert 'resource=arn:aws:s3:::log-text/k' in line
        assert "reason=" in line and "principal=" in line
        assert "\x1b[" not in Path(srv.log_path).read_text(), "ANSI colour in a log that is not a terminal"


def test_json_log_format():
    with running_server(extra_env={"STRONGBOX_LOG": "info"}, extra_args=("--log-format", "json")) as srv:
        request_id = _anonymous_put(srv, "log-json")
        lines = _log_lines(srv, request_id)
        assert len(lines) == 1, lines
        entry = json.loads(lines[0])
        assert entry["level"] == "INFO"
        fields = entry["fields"]
        assert fields["message"] == "access denied"
        assert fields["request_id"] == request_id
        assert fields["action"] == "s3:PutObject"
        # Every line of the log is JSON.
        for line in Path(srv.log_path).read_text().splitlines():
            json.loads(line)
