"""``podium testing serve NAME --port N``: run a provider's loopback server by hand.

Develop and test pipelines offline: start ``podium testing serve fal --port 8001`` and point
Podium at it with ``PODIUM_FAL_URL=http://127.0.0.1:8001`` (any key value works). Fault knobs
are set while it runs with ``POST /_podium/faults`` (JSON, e.g. ``{"error_5xx": 2}``); ``GET
/_podium/stats`` counts requests and creates.
"""

from __future__ import annotations

import importlib
import json
import socket
from typing import Any

import typer

from podium.cli.app import app, fail

testing_app = typer.Typer(
    name="testing", help="Offline testing aids: loopback provider servers.", no_args_is_help=True
)
app.add_typer(testing_app)


def _servers() -> Any:
    # podium.testing sits beside podium.cli in the layer table (no static import between
    # them), so the servers are found at run time, like a plug-in
    return importlib.import_module("podium.testing.servers")


@testing_app.command("serve")
def serve(
    name: str = typer.Argument(..., help="fal, replicate, openai, elevenlabs or comfyui"),
    port: int = typer.Option(8000, "--port", "-p", help="port to listen on (1-65535)"),
    host: str = typer.Option("127.0.0.1", "--host", help="address to bind (loopback by default)"),
    faults: str = typer.Option(
        "", "--faults", help='initial fault knobs as JSON, e.g. {"slow_s": 1}'
    ),
) -> None:
    """Serve NAME's documented protocol on HOST:PORT until interrupted."""
    servers = _servers()
    if name not in servers.SERVERS:
        raise fail(f"no loopback server {name!r} — choose one of {', '.join(servers.SERVERS)}", 2)
    if not 1 <= port <= 65535:
        raise fail(f"--port: {port} is not a port — pass a number from 1 to 65535", 2)
    try:  # a port in use is one line here, not the server's log after its banner
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
            probe.bind((host, port))
    except OSError as exc:
        why = exc.strerror or exc
        raise fail(f"--port: cannot listen on {host}:{port} ({why}) — pick another", 2) from None
    server = servers.serve(name, host, port)
    if faults:
        try:
            knobs = json.loads(faults)
            if not isinstance(knobs, dict):
                raise TypeError(f"expected a JSON object of fault knobs, not {faults}")
            server.faults.update(knobs)
        except (ValueError, KeyError, TypeError) as exc:
            reason = exc.args[0] if isinstance(exc, KeyError) else exc  # KeyError quotes it
            raise fail(f"--faults: {reason} — e.g. --faults '{{\"error_5xx\": 2}}'", 2) from None
    env = f"PODIUM_{servers.URL_SETTINGS[name].upper()}"
    typer.echo(f"{name} loopback server on {servers.base_url(name, server)}", err=True)
    typer.echo(f"  export {env}={servers.base_url(name, server)}", err=True)
    typer.echo(
        "  faults: POST /_podium/faults   stats: GET /_podium/stats   Ctrl-C stops", err=True
    )
    server.serve_forever()
