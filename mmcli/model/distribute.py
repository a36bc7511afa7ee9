"""Where a run trains: one device, the GPUs of one machine, or several machines.

``--strategy`` picks a ``tf.distribute`` strategy (:data:`STRATEGIES`); ``auto`` takes
``multi-worker`` when ``TF_CONFIG`` describes a cluster, ``mirrored`` when more than one GPU
is visible, else ``one``. The global batch is ``--batch-size``, split evenly across the
replicas; the learning rate is never rescaled (a run on N replicas with the same
``--batch-size`` takes the same steps as one on one device; raise both yourself to use bigger
GPUs). Nothing pins the CPU. ``MMCLI_LOGICAL_CPUS=N`` splits the CPU into N logical devices,
so ``mirrored`` can be tried and tested on a machine without GPUs.
"""

from __future__ import annotations

import os
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from mmcli.errors import UsageError
from mmcli.io.cluster import Role
from mmcli.model.backend import import_keras

keras = import_keras()
import tensorflow as tf  # noqa: E402  (after import_keras set the environment)

STRATEGIES = ("auto", "one", "mirrored", "multi-worker")
LOGICAL_CPUS = "MMCLI_LOGICAL_CPUS"


@dataclass(frozen=True)
class Placement:
    """The chosen strategy: its ``name`` (``one``, ``mirrored``, ``multi-worker``), the
    ``tf.distribute`` object (None for ``one``), the number of replicas, their devices."""

    name: str
    strategy: Any
    replicas: int
    devices: tuple[str, ...]
    mixed_precision: bool = False

    def scope(self):
        """Where variables must be created: the strategy's scope (or nothing)."""
        return self.strategy.scope() if self.strategy is not None else nullcontext()

    def to_dict(self) -> dict[str, Any]:
        """What the manifest records."""
        return {"strategy": self.name, "replicas": self.replicas, "devices": list(self.devices),
                "mixed_precision": self.mixed_precision}


def place(name: str, role: Role, *, mixed_precision: bool = False) -> Placement:
    """Create the strategy ``name`` (see the module) for this process.

    Raises:
        UsageError: an unknown name, or ``multi-worker`` without a cluster in ``TF_CONFIG``.
    """
    if name not in STRATEGIES:
        raise UsageError(f"Unknown strategy {name!r}. Choose one of: {', '.join(STRATEGIES)}")
    gpus = tf.config.list_physical_devices("GPU")  # lists without starting the runtime
    if name == "auto":
        name = "multi-worker" if role.clustered else "mirrored" if len(gpus) > 1 else "one"
    if name == "multi-worker":  # before anything starts the runtime: it configures it
        if not role.clustered:
            raise UsageError("--strategy multi-worker needs TF_CONFIG describing a cluster "
                             "of two or more tasks (scripts/launch_local_workers.py sets it)")
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    else:
        _logical_cpus()
    if mixed_precision:  # float16 compute, float32 variables: meant for GPUs
        keras.mixed_precision.set_global_policy("mixed_float16")
    devices = tuple(d.name for d in (tf.config.list_logical_devices("GPU")
                                     or tf.config.list_logical_devices("CPU")))
    if name == "one":
        return Placement("one", None, 1, devices[:1], mixed_precision)
    if name == "mirrored":
        strategy = tf.distribute.MirroredStrategy(list(devices))
    return Placement(name, strategy, strategy.num_replicas_in_sync, devices, mixed_precision)


def _logical_cpus() -> None:
    count = os.environ.get(LOGICAL_CPUS, "").strip()
    if not count:
        return
    if not count.isdigit() or int(count) < 1:
        raise UsageError(f"Expected a positive integer for {LOGICAL_CPUS}. Received: {count!r}")
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * int(count))
    except RuntimeError:  # already initialised in this process (e.g. a second run in tests)
        pass


def distribute(stream, placement: Placement):
    """``stream`` (batches of the global batch size) split across the replicas. Each worker
    reads the whole prepared data and keeps its slice of every batch (tf.data ``DATA``
    sharding: mmcli's streams come from memory-mapped shards through a generator, which
    file sharding cannot split)."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return placement.strategy.experimental_distribute_dataset(stream.with_options(options))
