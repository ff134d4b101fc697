"""``bachbot sim``: run the local Spotify in the foreground, for manual tries and the demo.

It starts with the demo's generated Bach catalogue and listener (a library to
sync, playlists of their own and one they follow), because an empty Spotify
teaches nothing: a first sync against it finishes the discography walk having
found nothing.  ``--empty`` starts with one user and no music; ``--data`` loads
a catalogue file.
"""

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
        empty: bool = typer.Option(False, "--empty", help="One listener and no music at all."),
        mode: str = typer.Option("new", help="new (2026 rules) or extended (pre-2024 quota)."),
        port: int = typer.Option(8899, help="Port on 127.0.0.1 (0: any free port)."),
        client_id: str = typer.Option("bachbot-sim", help="Client id the sim accepts."),
        client_secret: str = typer.Option("bachbot-sim-secret", help="Client secret it accepts."),
        validate: bool | None = typer.Option(
            None,
            "--validate/--no-validate",
            help="Check every answer against the spec and print each violation as it happens "
            "(default: on when the development extras are installed).",
        ),
    ) -> None:
        """Serve a local Spotify on 127.0.0.1 until Ctrl-C."""
        from service.errors import UsageError
        from service.spotify_sim import SimState, SpotifySim
        from service.spotify_sim.server import Violation, spec_checks_available

        if mode not in ("new", "extended"):
            raise UsageError(f"--mode must be new or extended, got {mode!r}")
        if validate and not spec_checks_available():
            raise UsageError(
                "--validate needs the development extras (jsonschema, PyYAML): "
                "pip install -e '.[dev]'"
            )
        if data is not None:
            state = SimState.load(data)
            what = f"the catalogue in {data}"
        elif empty:
            state = SimState()
            what = "no music (--empty)"
        else:
            from service.demo_world import ListenerWorld

            state = ListenerWorld.generate().state()
            what = f"the demo's Bach catalogue ({len(state.tracks)} recordings)"
        if state.default_user is None:
            state.add_user("listener", display_name="Listener")

        def say(violation: Violation) -> None:
            typer.echo(f"off-spec: {violation.route} -> {violation.status}: {violation.message}")

        server = SpotifySim(state, mode=mode, port=port, validate=validate, on_violation=say)
        server.accounts.client_id = client_id
        server.accounts.client_secret = client_secret
        with server:
            checks = "answers checked against the spec" if server.validate else "answers unchecked"
            typer.echo(
                f"local Spotify ({mode}) with {what} for user {state.default_user!r}, "
                f"{checks}; point bachbot at it with\n"
                f"  BACHBOT_SPOTIFY_API_BASE={server.api_base}\n"
                f"  BACHBOT_SPOTIFY_ACCOUNTS_BASE={server.accounts_base}\n"
                f"  BACHBOT_RECCOBEATS_BASE={server.reccobeats_base}\n"
                f"  BACHBOT_SPOTIFY_CLIENT_ID={client_id}\n"
                f"  BACHBOT_SPOTIFY_CLIENT_SECRET={client_secret}\n"
                "  BACHBOT_SPOTIFY_REDIRECT_URI=http://127.0.0.1:8888/callback\n"
                "then run `bachbot auth` (it approves at once). Ctrl-C stops it.",
            )
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                typer.echo("stopped")
