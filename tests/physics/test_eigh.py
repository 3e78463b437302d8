"""The no-gradient eigensolver: numpy's and torch's LAPACK give the same mode areas and spectra."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import physics
from physics import eigh as eigh_module


@pytest.fixture
def structures():
    return physics.sample_displacements(6, seed=11, size=8)


def _with(backend: str, monkeypatch, fn):
    monkeypatch.setenv("SCALEFREE_EIGH", backend)
    assert eigh_module.backend_for(64) == backend
    return fn()


def test_both_backends_give_the_same_mode_areas_and_spectra(structures, monkeypatch):
    # Rule: the route is a speed choice only; two LAPACKs agree on every number we use.
    areas = {
        b: _with(b, monkeypatch, lambda: physics.mode_areas(structures)) for b in ("numpy", "torch")
    }
    np.testing.assert_allclose(areas["numpy"], areas["torch"], rtol=1e-9, atol=1e-12)
    spectra = {
        b: _with(b, monkeypatch, lambda: physics.spectrum(structures)[0])
        for b in ("numpy", "torch")
    }
    np.testing.assert_allclose(spectra["numpy"], spectra["torch"], rtol=0, atol=1e-12)


def test_both_backends_give_the_same_attacked_mode_areas(structures, monkeypatch):
    def attacked():
        return physics.attacked_mode_areas(structures[:2], strength=0.05, seed=3)[1]

    got = {b: _with(b, monkeypatch, attacked) for b in ("numpy", "torch")}
    np.testing.assert_allclose(got["numpy"], got["torch"], rtol=1e-9, atol=1e-12)


def test_auto_measures_once_per_size_and_gradients_stay_with_torch(monkeypatch):
    monkeypatch.setenv("SCALEFREE_EIGH", "auto")
    eigh_module._CHOICE.clear()
    first = eigh_module.backend_for(16)
    assert first in eigh_module.BACKENDS and eigh_module.backend_for(16) == first
    assert len(eigh_module._CHOICE) == 1
    m = torch.eye(3, dtype=torch.float64, requires_grad=True)
    lam, _ = eigh_module.eigh(m + m.T)
    assert lam.requires_grad  # went through torch.linalg.eigh


def test_the_choice_is_the_machines_not_the_process(monkeypatch, tmp_path):
    # Rule: every process of a machine uses the backend remembered for it (a timing under load
    # in each process let Ray workers and a local run write different dataset bytes).
    monkeypatch.setenv("SCALEFREE_EIGH", "auto")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    eigh_module._CHOICE.clear()
    first = eigh_module.backend_for(24)
    stored = json.loads(eigh_module.cache_file().read_text())
    (entries,) = stored.values()
    assert entries == {f"24x{torch.get_num_threads()}": first}
    other = "numpy" if first == "torch" else "torch"  # as if another process had measured
    (machine,) = stored
    eigh_module.cache_file().write_text(
        json.dumps({machine: {f"24x{torch.get_num_threads()}": other}})
    )
    eigh_module._CHOICE.clear()
    assert eigh_module.backend_for(24) == other
    eigh_module._CHOICE.clear()
