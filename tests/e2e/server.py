"""Start the real strongbox binary on a free port with a fresh data dir."""

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT_ACCESS_KEY = "AKIAEXAMPLEROOTKEY01"
ROOT_SECRET_KEY = "strongbox-e2e-root-secret-0123456789abcd"


def binary():
    env = os.environ.get("STRONGBOX_BIN")
    if env:
        return env
    target = os.environ.get("CARGO_TARGET_DIR") or str(Path(__file__).resolve().parents[2] / "target")
    return str(Path(target) / "debug" / "strongbox")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    endpoint: str
    port: int
    data_dir: str
    access_key: str
    secret_key: str
    process: subprocess.Popen
    log_path: str

    def stop(self, sig=None):
        if self.process.poll() is None:
            if sig is None:
                self.process.terminate()
            else:
                self.process.send_signal(sig)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(data_dir, port=None, extra_env=None, extra_args=()):
    port = port or free_port()
    # Beside the data dir (which the server may have to create itself).
    log_path = os.path.join(os.path.dirname(os.path.normpath(data_dir)), f"server-{port}.log")
    env = dict(os.environ)
    env.update({
        "STRONGBOX_ROOT_ACCESS_KEY_ID": ROOT_ACCESS_KEY,
        "STRONGBOX_ROOT_SECRET_ACCESS_KEY": ROOT_SECRET_KEY,
        "STRONGBOX_LOG": env.get("STRONGBOX_LOG", "warn"),
    })
    env.update(extra_env or {})
    log = open(log_path, "ab")
    proc = subprocess.Popen(
        [binary(), "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", data_dir, *extra_args],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"strongbox exited with {proc.returncode}; log: {Path(log_path).read_text()[-4000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("strongbox did not start listening in 30 s")
            time.sleep(0.05)
    return Server(endpoint, port, data_dir, ROOT_ACCESS_KEY, ROOT_SECRET_KEY, proc, log_path)


@contextlib.contextmanager
def running_server(extra_env=None, extra_args=()):
    tmp = tempfile.mkdtemp(prefix="strongbox-e2e-")
    data_dir = os.path.join(tmp, "data")
    os.makedirs(data_dir)
    srv = start(data_dir, extra_env=extra_env, extra_args=extra_args)
    try:
        yield srv
    finally:
        srv.stop()
        if os.environ.get("STRONGBOX_KEEP_DATA"):
            print(f"data kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def raw_request(srv, head_lines):
    """Sends one raw HTTP/1.1 request head (no body) and reads the whole answer;
    returns (status, headers with lower-case names, body)."""
    head = "".join(f"{line}\r\n" for line in head_lines) + "\r\n"
    with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as s:
        s.sendall(head.encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head_bytes, _, body = data.partition(b"\r\n\r\n")
    lines = head_bytes.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower().decode()] = value.strip().decode(errors="replace")
    return status, headers, body


def unsigned_get(srv, path, headers):
    """An unsigned GET with exactly these headers (and Connection: close);
    returns (status, request id)."""
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{srv.port}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    status, answer_headers, _ = raw_request(srv, lines)
    return status, answer_headers.get("x-amz-request-id")


@contextlib.contextmanager
def scratch_dir(prefix="strongbox-e2e-"):
    """A temporary directory, removed afterwards."""
    tmp = tempfile.mkdtemp(prefix=prefix)
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

