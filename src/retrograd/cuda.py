"""CPU-only answers to CUDA queries, so that device-agnostic PyTorch scripts run unchanged."""


def is_available():
    """Always False: retrograd computes on the CPU."""
    return False


def device_count():
    return 0


def manual_seed(seed):
    """No-op (there is no CUDA generator); use ``retrograd.manual_seed``."""


def manual_seed_all(seed):
    """No-op (there is no CUDA generator); use ``retrograd.manual_seed``."""


def synchronize(device=None):
    """No-op: CPU work is synchronous."""


def empty_cache():
    """No-op."""


def is_bf16_supported():
    return False


def current_device():
    raise RuntimeError("retrograd.cuda.current_device(): no CUDA device; retrograd runs on the CPU")
