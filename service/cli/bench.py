"""``bachbot bench``: the benchmarks, exactly as ``python -m bench`` runs them.

Every option after ``bench`` is handed to ``python -m bench`` unchanged
(``--quick``, ``--backend sqlite|postgres|both``, ``--only
calls|cycle|model|startup``, ``--out DIR``, ``--verbose``, ...); see
bench/README.md for what each figure means.  The results go to the
checkout's ``bench/`` or ``./bench-results/``, never into site-packages.
"""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command(
        "bench",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
        add_help_option=False,
    )
    def bench(ctx: typer.Context) -> None:
        """Measure Spotify calls, cycle time and memory, training and scoring; print the table."""
        from bench.__main__ import main  # heavy imports only for this command

        code = main(list(ctx.args))
        if code:
            raise typer.Exit(code)
