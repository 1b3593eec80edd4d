"""examples/sequence_classifier.py: a GRU reading the bundled 8x8 digits row by row."""

import importlib.util
from pathlib import Path

import numpy as np

import retrograd

_PATH = Path(__file__).resolve().parents[2] / "examples" / "sequence_classifier.py"
_spec = importlib.util.spec_from_file_location("sequence_classifier_example", _PATH)
sc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sc)


def test_digits_become_sequences_of_rows():
    (xtr, ytr), (xva, yva), (xte, yte) = sc.load_digit_sequences(0)
    assert xtr.shape[1:] == (8, 8) and xtr.dtype == np.float32
    assert len(ytr) + len(yva) + len(yte) == 1797 and len(yte) == 360
    assert 0.0 <= xtr.min() and xtr.max() <= 1.0
    model = sc.GRUClassifier(8, 16, 10)
    assert tuple(model(retrograd.from_numpy(xtr[:5])).shape) == (5, 10)


def test_gru_classifier_beats_the_majority_baseline():
    res = sc.run(epochs=8, hidden=64, baseline_epochs=20, verbose=False)
    # majority class: about 10% (the classes are balanced)
    assert 0.08 < res["majority"] < 0.12
    assert res["gru"] > 0.88 and res["gru"] > res["majority"] + 0.75, res
    # the linear model that sees the whole image at once is the strong reference
    assert res["logistic"] > 0.9
