import os
from pathlib import Path

import numpy as np
import pytest

import retrograd

# ../shared/data beside the checkout holds MNIST and Fashion-MNIST (read-only)
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _seed():
    retrograd.manual_seed(0)
    np.random.seed(0)
    yield


@pytest.fixture
def shared_data():
    if not SHARED_DATA.exists():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


os.environ.setdefault("MPLBACKEND", "Agg")
