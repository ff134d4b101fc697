"""The status page a listener opens: the playlist and why, the login, what ran, how the model does.

Plain server-rendered HTML with one inline stylesheet and no script: it
reloads itself every minute (a meta refresh, which keeps ``?token=`` and
basic auth working), reads on a 390 px phone without sideways scrolling (the
playlist table turns into cards), and shows no table names or raw counts:
those are for ``/metrics`` and ``bachbot status --json``.  Every text comes
from the snapshot through :mod:`service.status_text`, so the page and the
CLI say the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from urllib.parse import quote

from jobs.taste import RatedGroup
from service.job_sentences import RunRecord, plural, sentence
from service.readable_time import ago, iso, stamp
from service.score_plot import PlotPoint, score_plot_svg
from service.status import ModelView, PlaylistView, StatusSnapshot
from service.status_text import (
    coverage_suffix,
    library_sentence,
    login_sentence,
    model_hint,
    model_sentence,
    playlist_sentence,
    provider_name,
    to_rate_sentence,
)
from service.taste_plot import BARS, taste_plot_svg

REFRESH_SECONDS = 60
TASTE_SHOWN = 5
PLOT_UP = 5
"""Bars for what raises the chance; the rest of the plot's bars show what lowers it."""
"""Features named per side in the taste section's sentences (the plot shows up to 8)."""
OPEN_CHANGES = 5
"""Up to this many removed tracks are listed open; more fold away (a phone screen is short)."""

STYLE = """
*, *::before, *::after { box-sizing: border-box; }
body { font: 16px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d1d1f;
  background: #fafaf7; margin: 0; overflow-wrap: break-word; }
.tracks td.track, #changes li, footer { overflow-wrap: anywhere; }
header, main, footer { max-width: 60rem; margin: 0 auto; padding: 0 1rem; }
header { padding-top: 1.2rem; }
h1 { font-size: 1.6rem; margin: 0 0 .2rem; }
h2 { font-size: 1.2rem; margin: 1.8rem 0 .5rem; }
h3 { font-size: 1rem; margin: 1rem 0 .3rem; }
p { margin: .4rem 0; }
a { color: #0b5cad; }
.lead, .muted, .caption, footer, time { color: #5b5b60; }
.caption { font-size: .875rem; }
.attention { background: #fff4e0; border: 1px solid #e3b55f; border-radius: .5rem;
  padding: .5rem 1rem; margin-top: 1rem; }
.attention ul { margin: 0; padding-left: 1.1rem; }
table.tracks { border-collapse: collapse; width: 100%; }
.tracks th, .tracks td { text-align: left; vertical-align: top; padding: .45rem .5rem;
  border-bottom: 1px solid #e4e4df; }
.tracks th { font-size: .85rem; color: #5b5b60; font-weight: 600; }
.tracks td.pos { color: #5b5b60; width: 2.2rem; white-space: nowrap; }
.tracks .artists, .tracks .spread { font-size: .875rem; color: #5b5b60; }
.tracks td.score, .tracks th { white-space: nowrap; }
.tracks td.why { min-width: 8rem; }
.badge { display: inline-block; font-size: .75rem; background: #dff3e4; color: #14632b;
  border-radius: .6rem; padding: 0 .45rem; margin-left: .3rem; }
svg.plot { display: block; width: 100%; max-width: 30rem; height: auto; margin: .5rem 0; }
svg.plot text { font-size: 12px; fill: #5b5b60; }
svg.plot .frame { fill: #fff; stroke: #e4e4df; }
svg.plot .baseline { stroke: #b0b0aa; stroke-dasharray: 4 3; }
svg.plot .line { fill: none; stroke: #0b5cad; stroke-width: 2; }
svg.plot .used, svg.plot .current { fill: #0b5cad; }
svg.plot .current { stroke: #1d1d1f; stroke-width: 1.5; }
svg.plot .tried { fill: #fff; stroke: #8a8a85; stroke-width: 1.5; }
svg.plot .bar.up { fill: #2e7d4f; }
svg.plot .bar.down { fill: #b4532a; }
.taste ul { margin: .2rem 0; padding-left: 1.1rem; }
ul.runs { list-style: none; padding: 0; margin: 0; }
ul.runs li { padding: .3rem 0; border-bottom: 1px solid #ecece7; }
ul.runs time { display: inline-block; min-width: 9rem; font-size: .875rem; }
li.failed span { color: #a8071a; font-weight: 600; }
li.skipped span { color: #8a5300; }
footer { font-size: .8rem; padding: 2rem 1rem 1.5rem; }
@media (max-width: 40rem) {
  .tracks thead { display: none; }
  .tracks, .tracks tbody, .tracks tr, .tracks td { display: block; }
  .tracks tr { display: grid; grid-template-columns: 2rem 1fr; column-gap: .3rem;
    padding: .5rem 0; border-bottom: 1px solid #e4e4df; }
  .tracks td { border: 0; padding: .1rem 0; }
  .tracks td.pos { grid-row: span 3; width: auto; }
  .tracks td.score { white-space: normal; }
  .tracks td.why::before { content: "Why it's here: "; color: #5b5b60; }
  ul.runs time { display: block; min-width: 0; }
}
"""


def render_page(snapshot: StatusSnapshot, *, refresh_seconds: int = REFRESH_SECONDS) -> str:
    """The whole page for one snapshot; pure, so tests read it without a server."""
    sections = [
        _attention(snapshot),
        _playlist(snapshot.playlist, snapshot),
        _taste(snapshot),
        _to_rate(snapshot),
        _model(snapshot.model, snapshot),
        _activity(snapshot),
        _login(snapshot),
        _sources(snapshot),
        _unreadable(snapshot),
    ]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="{refresh_seconds}">
<title>bachbot - {escape(snapshot.playlist_name)}</title>
<style>{STYLE}</style></head><body>
<header><h1>bachbot</h1><p class="lead">{escape(library_sentence(snapshot))}</p></header>
<main>{"".join(sections)}</main>
<footer>Updated <time datetime="{iso(snapshot.now)}">{escape(stamp(snapshot.now))}</time>;
this page refreshes every minute. Data: {escape(snapshot.database_url)}</footer>
</body></html>
"""


def _attention(snapshot: StatusSnapshot) -> str:
    login = snapshot.login
    items = [login_sentence(login, snapshot.now)] if login.state != "ok" else []
    if login.paused_reason:
        items.append(login.paused_reason)
    items += snapshot.notes
    if not items:
        return ""
    lis = "".join(f"<li>{escape(item)}</li>" for item in items)
    return f'<section class="attention" id="attention"><ul>{lis}</ul></section>'


def _playlist(playlist: PlaylistView | None, snapshot: StatusSnapshot) -> str:
    head = f'<section id="playlist"><h2>{escape(snapshot.playlist_name)}</h2>'
    intro = f"<p>{escape(playlist_sentence(playlist, snapshot))}</p>"
    if playlist is None or not playlist.rows:
        return head + intro + "</section>"
    rows = "".join(
        f'<tr><td class="pos">{row.position}</td><td class="track">'
        f'<a href="https://open.spotify.com/track/{quote(row.track.track_id)}">'
        f"{escape(row.track.name)}</a>"
        + ('<span class="badge">new</span>' if row.is_new else "")
        + (f'<div class="artists">{escape(row.track.artists)}</div>' if row.track.artists else "")
        + f'</td><td class="score">{escape(row.score_text)}'
        + (f'<div class="spread">{escape(row.spread_text)}</div>' if row.spread_text else "")
        + '</td><td class="why">'
        + (
            escape("; ".join(row.why))
            if row.why
            else '<span class="muted" title="not explained yet">—</span>'
        )
        + "</td></tr>"
        for row in playlist.rows
    )
    table = (
        '<table class="tracks"><thead><tr><th>#</th><th>Track</th><th>Prediction</th>'
        f"<th>Why it's here</th></tr></thead><tbody>{rows}</tbody></table>"
        '<p class="caption">“Why it’s here”: what raised the track’s chance most against '
        "the average candidate (<code>bachbot explain TRACK</code> tells the whole story: "
        "every reason, the rated recordings it is closest to). A dash means it is not "
        "explained yet - the next score explains every published track; bachbot makes no "
        "reasons up.</p>"
    )
    return head + intro + table + _changes(playlist) + "</section>"


def _groups(title: str, groups: Sequence[RatedGroup]) -> str:
    if not groups:
        return ""
    items = "".join(
        f'<li>{escape(g.label)} <span class="muted">({g.loved} loved, {g.unloved} not)</span></li>'
        for g in groups
    )
    return f"<h3>{escape(title)}</h3><ul>{items}</ul>"


def _taste(snapshot: StatusSnapshot) -> str:
    taste = snapshot.taste
    if taste is None:
        return ""
    parts = ['<section id="taste" class="taste"><h2>Your taste</h2>']
    if taste.features:
        up = [f for f in taste.features if float(f["effect"]) > 0]
        down = [f for f in taste.features if float(f["effect"]) < 0]
        parts.append(
            "<p>What the model has learned matters most"
            + (f" (model {escape(taste.model_version)})" if taste.model_version else "")
            + ":</p>"
        )
        if up:
            parts.append(
                "<p>More likely loved: "
                + escape(", ".join(_versus(f) for f in up[:TASTE_SHOWN]))
                + "</p>"
            )
        if down:
            parts.append(
                "<p>Less likely loved: "
                + escape(", ".join(str(f["text"]) for f in down[:TASTE_SHOWN]))
                + "</p>"
            )
        parts.append(taste_plot_svg([*up[:PLOT_UP], *down[: BARS - PLOT_UP]]))
        parts.append(
            '<p class="caption">Each bar: how many points of chance one side of a feature '
            "adds (right) or takes away (left) compared with the other side, over the tracks "
            "bachbot could publish, as the model in use sees it.</p>"
        )
    parts.append(_groups("Works you loved", taste.loved_works))
    parts.append(_groups("Works you did not love", taste.unloved_works))
    parts.append(_groups("Performers you loved", taste.loved_performers))
    parts.append(_groups("Performers you did not love", taste.unloved_performers))
    return "".join(parts) + "</section>"


def _versus(feature: Mapping[str, object]) -> str:
    versus = feature.get("versus")
    return f"{feature['text']} (over {versus})" if versus else str(feature["text"])


def _to_rate(snapshot: StatusSnapshot) -> str:
    sentence = to_rate_sentence(snapshot)
    if sentence is None:
        return ""
    return (
        f'<section id="to-rate"><h2>{escape(snapshot.to_rate_name)}</h2>'
        f"<p>{escape(sentence)}</p></section>"
    )


def _changes(playlist: PlaylistView) -> str:
    if not playlist.removed and not playlist.added:
        return ""
    parts = ['<div id="changes"><h3>Since the list before</h3>']
    if playlist.added:
        parts.append(f"<p>Added: {len(playlist.added)} (marked <i>new</i> above).</p>")
    if playlist.removed:
        names = "".join(
            f"<li>{escape(t.name)}"
            + (f' <span class="muted">- {escape(t.artists)}</span>' if t.artists else "")
            + "</li>"
            for t in playlist.removed
        )
        opened = " open" if len(playlist.removed) <= OPEN_CHANGES else ""
        parts.append(
            f"<details{opened}><summary>Taken out: {len(playlist.removed)}</summary>"
            f"<ul>{names}</ul></details>"
        )
    return "".join(parts) + "</div>"


def _model(model: ModelView | None, snapshot: StatusSnapshot) -> str:
    parts = [
        '<section id="model"><h2>How well bachbot knows your taste</h2>',
        f"<p>{escape(model_sentence(model, snapshot))}</p>",
    ]
    if model is not None and model.quality is not None and model.history:
        points = [
            PlotPoint(p.created_at, p.quality.value, in_use=p.ever_used, current=p.current)
            for p in model.history
        ]
        parts.append(score_plot_svg(points, metric=model.quality.metric))
        legend = f"Each dot is a model trained ({model.quality.label}, higher is better): "
        legend += "filled ones were used for the playlist, hollow ones were not better."
        hint = model_hint(model)
        if hint:
            legend += f" For scale: {hint}."
        if other := model.history_other_metric:
            legend += f" Not shown: {plural(other, 'older model')} scored another way."
        parts.append(f'<p class="caption">{escape(legend)}</p>')
    return "".join(parts) + "</section>"


def _run_item(run: RunRecord, snapshot: StatusSnapshot) -> str:
    return (
        f'<li class="{escape(run.status)}"><time datetime="{iso(run.started_at)}" '
        f'title="{escape(stamp(run.started_at))}">{escape(ago(run.started_at, snapshot.now))}'
        f"</time> <span>{escape(sentence(run))}</span></li>"
    )


def _activity(snapshot: StatusSnapshot) -> str:
    if not snapshot.latest_runs:
        body = "<p>Nothing has run yet.</p>"
    else:
        body = '<ul class="runs">' + "".join(
            _run_item(run, snapshot) for run in snapshot.latest_runs
        )
        body += "</ul>"
    if snapshot.earlier_runs:
        earlier = "".join(_run_item(run, snapshot) for run in snapshot.earlier_runs)
        body += f'<details><summary>Earlier runs</summary><ul class="runs">{earlier}</ul></details>'
    return f'<section id="activity"><h2>Recent activity</h2>{body}</section>'


def _login(snapshot: StatusSnapshot) -> str:
    login = snapshot.login
    extra = ""
    if login.state == "ok" and login.refreshed_at is not None:
        extra = (
            f'<p class="caption">That was at {escape(stamp(login.refreshed_at))}. bachbot renews '
            "the login by itself; run <code>bachbot auth</code> only if Spotify revokes it.</p>"
        )
    return (
        '<section id="spotify"><h2>Spotify login</h2>'
        f'<p id="auth">{escape(login_sentence(login, snapshot.now))}</p>{extra}</section>'
    )


def _sources(snapshot: StatusSnapshot) -> str:
    items = "".join(
        f"<li>{escape(provider_name(name))}: {escape(text + coverage_suffix(snapshot, name))}</li>"
        for name, text in snapshot.providers.items()
    )
    return (
        '<section id="sources"><h2>Where track descriptions come from</h2>'
        f"<ul>{items}</ul></section>"
    )


def _unreadable(snapshot: StatusSnapshot) -> str:
    if not snapshot.unreadable:
        return ""
    items = "".join(
        f"<li><b>{escape(p.name)}</b> (owner {escape(p.owner)}): {escape(p.reason)}</li>"
        for p in snapshot.unreadable
    )
    return (
        f'<section id="unreadable"><h2>Playlists bachbot cannot read</h2><ul>{items}</ul></section>'
    )
