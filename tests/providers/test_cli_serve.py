"""``podium testing serve`` runs a loopback server a pipeline can be pointed at by hand."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from podium.providers.fal import FalProvider
from podium.settings import Settings
from podium.testing.servers.contract import make_request
from tests.providers.conftest import CASES


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_serve_by_hand_then_point_a_provider_at_it(
    tmp_path: Path, podium_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    cmd = [
        sys.executable,
        "-c",
        "from podium.cli import main; main()",
        "testing",
        "serve",
        "fal",
        "--port",
        str(port),
        "--faults",
        '{"error_5xx": 1}',
    ]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{url}/_podium/stats", timeout=0.5)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        monkeypatch.setenv("FAL_KEY", "any-key")
        async with httpx.AsyncClient() as client:
            provider = FalProvider(Settings(home=podium_home, fal_url=url), client)
            request = make_request(CASES["fal"], tmp_path)
            with pytest.raises(Exception, match="HTTP 503"):  # the --faults knob fired once
                await provider.submit(request, lambda e: None)
            result = await provider.wait(
                await provider.submit(request, lambda e: None), lambda e: None
            )
        assert result.outputs[0].path.stat().st_size > 0
        assert httpx.get(f"{url}/_podium/stats").json()["creates_total"] == 1
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert f"export PODIUM_FAL_URL=http://127.0.0.1:{port}" in err


def test_a_port_in_use_is_one_line_before_the_banner() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-c", "from podium.cli import main; main()", "testing", "serve",
             "fal", "--port", str(port)],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: --port: cannot listen on 127.0.0.1:{port} (Address already in use) — pick another"
    ]
