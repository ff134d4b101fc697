"""The demo catalogue: deterministic, loadable by the local Spotify, music-shaped descriptors."""

from __future__ import annotations

from statistics import mean

from models.catalogue_demo import BACH_ID, generate_catalogue
from service.spotify_sim import SimState


def test_same_seed_same_catalogue_other_seed_other_catalogue() -> None:
    one = generate_catalogue(n_albums=5, seed=7).to_json()
    assert one == generate_catalogue(n_albums=5, seed=7).to_json()
    assert one != generate_catalogue(n_albums=5, seed=8).to_json()


def test_max_tracks_caps_the_size() -> None:
    catalogue = generate_catalogue(n_albums=1000, max_tracks=300, segments_per_track=0)
    assert 300 <= len(catalogue.tracks) < 400


def test_local_spotify_loads_it_with_every_track_and_album() -> None:
    catalogue = generate_catalogue(n_albums=8, seed=1)
    state = SimState.from_dict(catalogue.to_sim_catalogue())
    assert set(state.tracks) == {t.id for t in catalogue.tracks}
    assert set(state.albums) == {a.id for a in catalogue.albums}
    assert all(t.artist_ids[0] == BACH_ID for t in catalogue.tracks)


def test_simulated_descriptors_follow_the_music() -> None:
    tracks = [t for t in generate_catalogue(n_albums=60, seed=2).tracks if t.audio_features]

    def avg(feature: str, keep: object) -> float:
        return mean(t.audio_features[feature] for t in tracks if keep(t))  # type: ignore[index, operator]

    assert avg("tempo", lambda t: t.tempo_class == "s") < avg(
        "tempo", lambda t: t.tempo_class == "f"
    )
    assert avg("energy", lambda t: t.tempo_class == "s") < avg(
        "energy", lambda t: t.tempo_class == "f"
    )
    assert avg("valence", lambda t: t.audio_features["mode"] == 0) < avg(
        "valence", lambda t: t.audio_features["mode"] == 1
    )
    segments = [t.analysis_segments for t in tracks if t.analysis_segments]
    assert segments and all(
        len(s["pitches"]) == 12 and len(s["timbre"]) == 12 for seg in segments for s in seg
    )
