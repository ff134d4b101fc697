"""The Spotify gateway: the only code in bachbot that imports spotipy.

Use :class:`SpotifyGateway` (``gateway.py``), catch the errors of
``errors.py``, consume the dataclasses of ``types.py``; ``auth.py`` runs the
OAuth authorization-code flow behind ``bachbot auth``.
"""
