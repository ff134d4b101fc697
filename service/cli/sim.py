"""``bachbot sim``: run the local Spotify in the foreground, for manual tries and the demo."""

from __future__ import annotations

import threading
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("sim")
    def sim(
        data: Path | None = typer.Option(
            None, "--data", help="Catalogue JSON (format: service/spotify_sim/state.py)."
        ),
        mode: str = typer.Option("new", help="new (2026 rules) or extended (pre-2024 quota)."),
        port: int = typer.Option(8899, help="Port on 127.0.0.1 (0: any free port)."),
        client_id: str = typer.Option("bachbot-sim", help="Client id the sim accepts."),
        client_secret: str = typer.Option("bachbot-sim-secret", help="Client secret it accepts."),
        validate: bool = typer.Option(False, help="Check every answer against the spec."),
    ) -> None:
        """Serve a local Spotify on 127.0.0.1 until Ctrl-C."""
        from service.errors import UsageError
        from service.spotify_sim import SimState, SpotifySim

        if mode not in ("new", "extended"):
            raise UsageError(f"--mode must be new or extended, got {mode!r}")
        state = SimState.load(data) if data else SimState()
        if state.default_user is None:
            state.add_user("listener", display_name="Listener")
        server = SpotifySim(state, mode=mode, port=port, validate=validate)
        server.accounts.client_id = client_id
        server.accounts.client_secret = client_secret
        with server:
            typer.echo(
                f"local Spotify ({mode}) running; point bachbot at it with\n"
                f"  BACHBOT_SPOTIFY_API_BASE={server.api_base}\n"
                f"  BACHBOT_SPOTIFY_ACCOUNTS_BASE={server.accounts_base}\n"
                f"  BACHBOT_RECCOBEATS_BASE={server.reccobeats_base}\n"
                f"  BACHBOT_SPOTIFY_CLIENT_ID={client_id}\n"
                f"  BACHBOT_SPOTIFY_CLIENT_SECRET=<the --client-secret you chose>\n"
                "Ctrl-C stops it."
            )
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                typer.echo("stopped")
