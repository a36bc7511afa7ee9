"""This process' role from TF_CONFIG, and the launcher's TF_CONFIGs (no TensorFlow)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from mmcli.errors import UsageError
from mmcli.io.cluster import cluster_role

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from launch_local_workers import free_ports, tf_configs  # noqa: E402


def role(config):
    return cluster_role({"TF_CONFIG": json.dumps(config)} if config is not None else {})


def test_no_tf_config_is_a_cluster_of_one_chief():
    found = role(None)
    assert found.chief and not found.clustered and found.tasks == 1


def test_worker_zero_is_the_chief_unless_the_cluster_names_one():
    workers = {"worker": ["h:1", "h:2"]}
    assert role({"cluster": workers, "task": {"type": "worker", "index": 0}}).chief
    second = role({"cluster": workers, "task": {"type": "worker", "index": 1}})
    assert not second.chief and second.clustered and "not the chief" in second.describe()
    named = {**workers, "chief": ["h:0"]}
    assert not role({"cluster": named, "task": {"type": "worker", "index": 0}}).chief
    chief = role({"cluster": named, "task": {"type": "chief", "index": 0}})
    assert chief.chief and chief.tasks == 3


@pytest.mark.parametrize("raw", ["{not json", json.dumps(
    {"cluster": {"worker": ["h:1"]}, "task": {"type": "worker", "index": 3}})])
def test_a_bad_tf_config_is_a_usage_error(raw):
    with pytest.raises(UsageError, match="TF_CONFIG"):
        cluster_role({"TF_CONFIG": raw})


def test_the_launcher_gives_each_worker_its_index_on_distinct_loopback_ports():
    ports = free_ports(3)
    configs = [json.loads(c) for c in tf_configs(ports)]
    assert len(set(ports)) == 3
    assert [c["task"]["index"] for c in configs] == [0, 1, 2]
    assert configs[0]["cluster"]["worker"] == [f"127.0.0.1:{p}" for p in ports]
    assert [cluster_role({"TF_CONFIG": json.dumps(c)}).chief for c in configs] == [
        True, False, False]
