"""Bundled data files (the BWV catalogue); a package so setuptools ships them."""
