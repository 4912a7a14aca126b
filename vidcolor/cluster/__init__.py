"""Scale-out: the segments of a job fanned out to Ray actors (optional extra ``vidcolor[cluster]``)."""

from vidcolor.cluster.ray_runner import RayRunner

__all__ = ["RayRunner"]
