"""``bachbot auth``: connect bachbot to a Spotify account (authorization-code flow).

Made for a server without a browser: it prints the URL to open anywhere; the
redirect is caught by a one-shot listener on the redirect URI (loopback), or,
with ``--paste``, the user pastes the URL the browser ended on.  The token
goes to the database; it is never printed.  Missing client credentials are
reported before the database is opened (so nothing is created).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from service.cli import settings_of

if TYPE_CHECKING:
    from service.wiring import Wiring


def register(app: typer.Typer) -> None:
    @app.command("auth")
    def auth(
        ctx: typer.Context,
        paste: bool = typer.Option(
            False, "--paste", help="Paste the redirected URL instead of listening for it."
        ),
        timeout: float = typer.Option(300.0, help="Seconds to wait for the redirect."),
    ) -> None:
        """Connect your Spotify account (run again if bachbot says access was revoked)."""
        from service.cli.spotify_access import require_spotify
        from service.login import begin_pending, mark_connected, wait_for_completion
        from service.spotify.auth import (
            SCOPES,
            AuthFailed,
            AuthFlow,
            CallbackListener,
            CallbackPortBusy,
        )
        from service.store.db import transaction
        from service.wiring import wire

        settings = settings_of(ctx)
        require_spotify(settings, need="bachbot auth connects your Spotify app", token=False)
        bot = wire(settings)
        sessions = bot.sessions
        flow = AuthFlow(settings, bot.tokens)
        scopes = "\n".join(f"  {name}: {why}" for name, why in SCOPES.items())
        intro = f"bachbot asks Spotify for:\n{scopes}\n\nOpen this URL in a browser and agree:\n"
        if paste:
            typer.echo(intro + flow.authorize_url())
            redirected = flow.check_pasted(
                typer.prompt("Paste the full URL the browser was sent to")
            )
        else:
            bind_host = None if settings.http_host in {"127.0.0.1", "::1"} else settings.http_host
            try:
                listener = CallbackListener(settings.spotify_redirect_uri, bind_host=bind_host)
            except CallbackPortBusy:
                # The daemon owns the port: it completes the login at its /callback.
                begin_pending(sessions=sessions, flow=flow)
                typer.echo(intro + flow.authorize_url())
                typer.echo("The running bachbot daemon will receive the redirect; waiting ...")
                if not wait_for_completion(sessions=sessions, timeout_s=timeout):
                    raise AuthFailed(
                        f"no redirect reached the daemon within {timeout:.0f} s; run "
                        "`bachbot auth` again, or `bachbot auth --paste`"
                    ) from None
                _connected(bot)
                return
            with listener:
                typer.echo(intro + flow.authorize_url())
                typer.echo(
                    f"Waiting for Spotify to redirect to {settings.spotify_redirect_uri} ..."
                )
                redirected = listener.wait(timeout)
        flow.finish(redirected)
        with transaction(sessions) as session:
            mark_connected(session=session)
        _connected(bot)


def _connected(bot: Wiring) -> None:
    me = bot.spotify.me()
    typer.echo(f"Connected to Spotify as {me.display_name or me.id}; the token is stored.")
