"""Colour references and keyframes (issue 12): what an archivist knows, carried into the bin distributions.

``spec`` parses ``IMAGE[@TIME]`` (no torch, for the CLI); ``load`` reads and checks images against
the film; ``shots`` finds the shots around keyframes; ``distributions`` turns reference colours
into bin distributions and combines them with the network's; ``guide`` is the hook the
prediction step calls between softmax and the temporal smoother.
"""

from vidcolor.reference.spec import RefTime, ReferenceSpec, parse_reference, parse_time, references_in_dir

__all__ = ["RefTime", "ReferenceSpec", "parse_reference", "parse_time", "references_in_dir"]
