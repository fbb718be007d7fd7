"""Static scheduling for the TSP: a dataflow graph → a cycle-exact program for the chapter-1 simulator.

The compiler, not the hardware, decides *where* (which slice, which MEM bank and address, which stream) and
*when* (which cycle) every vector operation happens — "software-defined hardware" ([isca20] §III). This package
is a small, honest version of that idea, one job per module:

* ``graph``     — :class:`Graph` of vector operations, :func:`evaluate` (NumPy reference), critical paths;
* ``scheduler`` — :func:`list_schedule` (critical-path list scheduling with stream allocation and hops) and the
  :func:`naive_schedule` baseline; :func:`simulate_schedule` runs the program on :mod:`labsim.tsp`;
* ``builders``  — chapter 2's graphs: :func:`example_graph`, :func:`mlp_graph`, :func:`decoder_layer_graph`, …;
* ``layer``     — a full-size decoder layer's share on one chip, scheduled with the weight traffic streamed from
  MEM (:func:`layer_program`, :func:`simulate_layer`);
* ``analytic``  — closed-form estimates: :func:`analytic_cycles`, and :func:`decoder_layer_cycles`, the
  per-layer model the layer simulation validates (used by the decode model of chapter 3).

Simplifications (docs/design/schedule.md): int8 activations/weights with int32 accumulation; no exp or rsqrt on
the simulated VXM, so softmax and RMSNorm are stand-ins with the real dependency structure.
"""
from __future__ import annotations

from .analytic import analytic_cycles, analytic_decoder_cycles, tile_count
from .builders import (
    decoder_layer_dims,
    decoder_layer_graph,
    example_graph,
    mlp_graph,
    random_graph,
    stream_conflict_example,
)
from .graph import MAX_NODES, VECTOR_OPS, Graph, Node, Tensor, asap_start_cycles, critical_path, evaluate, node_latency
from .layer import LayerBuild, LayerShape, build_layer, default_weight_streams, layer_reference, layer_shape
from .layer_model import decoder_layer_cycles, layer_latencies
from .layer_sim import simulate_layer, verify_sources
from .reference import reference_layer, reference_layers
from .scheduler import Schedule, list_schedule, naive_schedule, schedule, simulate_schedule

__all__ = [
    "Tensor", "Node", "Graph", "Schedule", "list_schedule", "naive_schedule", "schedule", "simulate_schedule",
    "evaluate", "critical_path", "analytic_cycles", "mlp_graph", "decoder_layer_graph", "decoder_layer_dims",
    "random_graph", "tile_count", "VECTOR_OPS", "node_latency", "asap_start_cycles", "example_graph",
    "stream_conflict_example", "analytic_decoder_cycles", "MAX_NODES", "decoder_layer_cycles", "layer_latencies",
    "LayerShape", "LayerBuild", "layer_shape", "build_layer", "layer_reference", "default_weight_streams",
    "simulate_layer", "verify_sources", "reference_layer", "reference_layers",
]
