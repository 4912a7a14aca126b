"""Colour pictures to simulated black-and-white film: the truth-known input of the archival
benchmark and the grey input the ``lite`` network is trained on."""

from vidcolor.film.look import FilmLook, apply_look, sample_looks
from vidcolor.film.stocks import STOCKS, FilmStock, film_grey

__all__ = ["STOCKS", "FilmLook", "FilmStock", "apply_look", "film_grey", "sample_looks"]
