"""retrograd.utils.data: datasets, samplers, collation and the DataLoader.

PyTorch is the oracle for collation results, random_split lengths, BatchSampler and
len(DataLoader); reproducibility and the TensorDataset fast path are checked by
comparing runs.
"""

import collections
import math
import warnings

import numpy as np
import pytest

import retrograd
from retrograd.utils.data import (
    BatchSampler,
    ChainDataset,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    Sampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    default_convert,
    get_worker_info,
    random_split,
)
from retrograd.utils.data import dataloader as dl_module


def gen(seed):
    return retrograd.Generator().manual_seed(seed)


def as_np(x):
    return x.numpy() if hasattr(x, "numpy") else np.asarray(x)


def assert_same_structure(ours, theirs):
    """Compare a collated retrograd batch with a collated torch batch."""
    torch = pytest.importorskip("torch")
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, retrograd.Tensor), type(ours)
        expected = theirs.numpy()
        assert ours.dtype == expected.dtype
        assert tuple(ours.shape) == expected.shape
        np.testing.assert_array_equal(ours.numpy(), expected)
    elif isinstance(theirs, dict):
        assert type(ours) is type(theirs) and ours.keys() == theirs.keys()
        for k in theirs:
            assert_same_structure(ours[k], theirs[k])
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert_same_structure(a, b)
    else:
        assert ours == theirs


def batches_np(loader):
    return [[as_np(t) for t in b] for b in loader]


# ---------------------------------------------------------------- collation

Point = collections.namedtuple("Point", "x y")


def _collate_cases():
    rng = np.random.default_rng(0)
    arrs = rng.random((3, 2, 2)).astype(np.float32)
    return [
        ("floats", [1.5, 2.0, -3.25]),
        ("ints", [1, 2, 3]),
        ("bools", [True, False, True]),
        ("strings", ["a", "bb", "c"]),
        ("np_float32_arrays", list(arrs)),
        ("np_float64_arrays", [a.astype(np.float64) for a in arrs]),
        ("np_int_arrays", [np.arange(3) + i for i in range(3)]),
        ("np_scalars", [np.float32(1.5), np.float32(2.5), np.float32(0.0)]),
        ("np_int_scalars", [np.int16(1), np.int16(2), np.int16(3)]),
        ("tuples", [(arrs[i], i, float(i)) for i in range(3)]),
        ("lists", [[i, i + 1] for i in range(3)]),
        ("dicts", [{"img": arrs[i], "label": i, "name": f"s{i}"} for i in range(3)]),
        ("nested", [{"pair": (i, [float(i), 2.0 * i])} for i in range(3)]),
        ("namedtuple", [Point(arrs[i], i) for i in range(3)]),
    ]


@pytest.mark.parametrize("name,batch", _collate_cases(), ids=[c[0] for c in _collate_cases()])
def test_default_collate_matches_torch(name, batch):
    pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate

    assert_same_structure(default_collate(batch), torch_collate(batch))


def test_default_collate_stacks_tensors_and_keeps_dtype():
    samples = [retrograd.tensor([[1.0, 2.0]]) * i for i in range(4)]
    out = default_collate(samples)
    assert tuple(out.shape) == (4, 1, 2)
    assert out.dtype == retrograd.float32
    np.testing.assert_array_equal(out.numpy()[:, 0, 1], [0.0, 2.0, 4.0, 6.0])


def test_default_collate_tensors_requiring_grad_keep_graph():
    a = retrograd.tensor([1.0, 2.0], requires_grad=True)
    b = retrograd.tensor([3.0, 4.0], requires_grad=True)
    out = default_collate([a, b])
    assert out.requires_grad
    (out * retrograd.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(b.grad.numpy(), [3.0, 4.0])


def test_default_collate_errors_are_clear():
    with pytest.raises(RuntimeError, match=r"different shapes .*\(2,\).*\(3,\)"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [1, 2, 3]])
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="numpy array of dtype"):
        default_collate([np.array(["a"]), np.array(["b"])])


def test_default_convert_matches_torch():
    pytest.importorskip("torch")
    from torch.utils.data import default_convert as torch_convert

    sample = {"x": np.arange(3, dtype=np.float32), "y": (np.int64(4), "s"), "z": 1.5}
    ours, theirs = default_convert(sample), torch_convert(sample)
    assert isinstance(ours["x"], retrograd.Tensor) and ours["x"].dtype == np.float32
    np.testing.assert_array_equal(ours["x"].numpy(), theirs["x"].numpy())
    assert isinstance(ours["y"], list) and ours["y"][0].item() == 4 and ours["y"][1] == "s"
    assert ours["z"] == 1.5


# ---------------------------------------------------------------- datasets


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return np.array([i, i * i], dtype=np.float32), i


def test_tensor_dataset_items_and_size_check():
    X = retrograd.arange(12.0).reshape(6, 2)
    y = retrograd.arange(6)
    ds = TensorDataset(X, y)
    assert len(ds) == 6
    x3, y3 = ds[3]
    np.testing.assert_array_equal(x3.numpy(), [6.0, 7.0])
    assert y3.item() == 3
    with pytest.raises(ValueError, match=r"size mismatch.*\(6, 2\).*\(5,\)"):
        TensorDataset(X, retrograd.arange(5))


def test_concat_and_chain_datasets():
    a, b = Squares(3), Squares(4)
    c = a + b
    assert isinstance(c, ConcatDataset) and len(c) == 7
    assert c.cumulative_sizes == [3, 7]
    assert c[3][1] == 0 and c[6][1] == 3 and c[-1][1] == 3 and c[-7][1] == 0
    with pytest.raises(ValueError, match="should not exceed"):
        c[-8]
    with pytest.raises(IndexError):
        c[7]

    class Stream(IterableDataset):
        def __init__(self, items):
            self.items = items

        def __iter__(self):
            return iter(self.items)

        def __len__(self):
            return len(self.items)

    chained = Stream([1, 2]) + Stream([3])
    assert isinstance(chained, ChainDataset)
    assert list(chained) == [1, 2, 3] and len(chained) == 3
    with pytest.raises(TypeError, match="IterableDataset"):
        ConcatDataset([Stream([1])])


def test_subset_and_getitems():
    ds = Squares(10)
    sub = Subset(ds, [9, 0, 4])
    assert len(sub) == 3 and sub[0][1] == 9 and sub[2][1] == 4
    assert [s[1] for s in sub.__getitems__([2, 0])] == [4, 9]


# ---------------------------------------------------------------- random_split


@pytest.mark.parametrize(
    "n,fractions",
    [(10, [0.8, 0.2]), (7, [0.5, 0.5]), (11, [0.3, 0.3, 0.4]), (5, [0.1, 0.1, 0.8]),
     (100, [1 / 3, 1 / 3, 1 / 3]), (3, [0.25, 0.25, 0.25, 0.25]), (1797, [0.7, 0.15, 0.15])],
)
def test_random_split_fraction_lengths_match_torch(n, fractions):
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = [len(s) for s in torch.utils.data.random_split(range(n), fractions)]
        ours = random_split(range(n), fractions, generator=gen(0))
    assert [len(s) for s in ours] == expected
    all_indices = sorted(i for s in ours for i in s.indices)
    assert all_indices == list(range(n))


def test_random_split_ints_reproducible_and_errors():
    a = random_split(range(10), [3, 7], generator=gen(42))
    b = random_split(range(10), [3, 7], generator=gen(42))
    c = random_split(range(10), [3, 7], generator=gen(43))
    assert [s.indices for s in a] == [s.indices for s in b]
    assert [s.indices for s in a] != [s.indices for s in c]
    assert [len(s) for s in a] == [3, 7]
    assert sorted(a[0].indices + a[1].indices) == list(range(10))
    assert list(a[0]) == [range(10)[i] for i in a[0].indices]
    retrograd.manual_seed(5)
    g1 = [s.indices for s in random_split(range(10), [5, 5])]
    retrograd.manual_seed(5)
    g2 = [s.indices for s in random_split(range(10), [5, 5])]
    assert g1 == g2
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(range(10), [3, 3])
    with pytest.warns(UserWarning) as record:
        parts = random_split(range(3), [0.9, 0.05, 0.05], generator=gen(0))
    assert [len(p) for p in parts] == [3, 0, 0]
    assert [str(w.message)[:28] for w in record] == ["Length of split at index 1 i",
                                                     "Length of split at index 2 i"]


# ---------------------------------------------------------------- samplers


def test_sequential_and_random_sampler():
    assert list(SequentialSampler(range(5))) == [0, 1, 2, 3, 4]
    s = RandomSampler(range(50), generator=gen(1))
    e1, e2 = list(s), list(s)
    assert sorted(e1) == list(range(50)) and e1 != e2  # new permutation each epoch
    assert list(RandomSampler(range(50), generator=gen(1))) == e1
    assert len(s) == 50

    s = RandomSampler(range(4), num_samples=10, generator=gen(0))
    draws = list(s)
    assert len(draws) == 10 and len(s) == 10
    assert all(np.bincount(draws, minlength=4) >= 2)  # two full permutations + 2 more
    assert sorted(draws[:4]) == [0, 1, 2, 3] and sorted(draws[4:8]) == [0, 1, 2, 3]

    s = RandomSampler(range(3), replacement=True, num_samples=1000, generator=gen(0))
    draws = np.array(list(s))
    assert draws.min() == 0 and draws.max() == 2 and len(draws) == 1000

    with pytest.raises(TypeError, match="replacement should be a boolean"):
        RandomSampler(range(3), replacement=1)
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        RandomSampler(range(3), num_samples=0)


def test_subset_and_weighted_samplers():
    idx = [10, 20, 30, 40]
    draws = list(SubsetRandomSampler(idx, generator=gen(0)))
    assert sorted(draws) == idx and all(isinstance(d, int) for d in draws)

    w = [0.0, 1.0, 3.0]
    draws = np.array(list(WeightedRandomSampler(w, 4000, generator=gen(0))))
    freq = np.bincount(draws, minlength=3) / len(draws)
    assert freq[0] == 0.0
    assert abs(freq[2] - 0.75) < 0.03  # binomial sd ~ 0.007
    draws = list(WeightedRandomSampler([1.0, 1.0, 1.0, 0.0], 3, replacement=False,
                                       generator=gen(0)))
    assert sorted(draws) == [0, 1, 2]
    with pytest.raises(ValueError, match="without replacement"):
        WeightedRandomSampler([1.0, 0.0], 2, replacement=False)
    with pytest.raises(ValueError, match="1d sequence"):
        WeightedRandomSampler([[1.0, 2.0]], 2)
    with pytest.raises(ValueError, match="non-negative"):
        WeightedRandomSampler([1.0, -1.0], 2)


@pytest.mark.parametrize("n,bs,drop_last", [(10, 3, False), (10, 3, True), (9, 3, True),
                                            (2, 5, False), (2, 5, True), (0, 2, False)])
def test_batch_sampler_matches_torch(n, bs, drop_last):
    torch = pytest.importorskip("torch")
    ours = BatchSampler(SequentialSampler(range(n)), bs, drop_last)
    theirs = torch.utils.data.BatchSampler(torch.utils.data.SequentialSampler(range(n)), bs,
                                           drop_last)
    assert list(ours) == list(theirs)
    assert len(ours) == len(theirs)
    # A plain iterable as the source takes the list route; same batches.
    assert list(BatchSampler(range(n), bs, drop_last)) == list(theirs)


def test_batch_sampler_validation():
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean"):
        BatchSampler(range(3), 2, 1)


def test_sampler_subclass_overriding_iter_is_honoured():
    class Reversed(SequentialSampler):
        def __iter__(self):
            return iter(range(len(self.data_source) - 1, -1, -1))

    assert list(BatchSampler(Reversed(range(5)), 2, False)) == [[4, 3], [2, 1], [0]]


# ---------------------------------------------------------------- DataLoader


@pytest.mark.parametrize("n,bs,drop_last", [(10, 4, False), (10, 4, True), (12, 4, False),
                                            (12, 4, True), (3, 5, False), (3, 5, True)])
def test_loader_len_and_last_batch(n, bs, drop_last):
    torch = pytest.importorskip("torch")
    X = retrograd.arange(float(n)).reshape(n, 1)
    loader = DataLoader(TensorDataset(X, retrograd.arange(n)), batch_size=bs,
                        drop_last=drop_last)
    expected_len = len(torch.utils.data.DataLoader(range(n), batch_size=bs, drop_last=drop_last))
    assert len(loader) == expected_len
    sizes = [len(yb) for _, yb in loader]
    assert len(sizes) == expected_len
    full, rest = divmod(n, bs)
    assert sizes == [bs] * full + ([] if drop_last or rest == 0 else [rest])
    seen = np.concatenate([yb.numpy() for _, yb in loader]) if sizes else np.array([])
    np.testing.assert_array_equal(seen, np.arange(len(seen)))  # in order when not shuffled


def test_loader_batches_types_and_values():
    X = retrograd.arange(20.0).reshape(10, 2)
    y = retrograd.arange(10)
    xb, yb = next(iter(DataLoader(TensorDataset(X, y), batch_size=4)))
    assert isinstance(xb, retrograd.Tensor) and xb.dtype == retrograd.float32
    assert yb.dtype == retrograd.int64 and tuple(xb.shape) == (4, 2)
    np.testing.assert_array_equal(xb.numpy(), np.arange(8.0).reshape(4, 2))

    batch = next(iter(DataLoader(Squares(5), batch_size=5)))
    assert isinstance(batch, list) and len(batch) == 2
    np.testing.assert_array_equal(batch[0].numpy()[:, 1], [0, 1, 4, 9, 16])
    assert batch[1].dtype == retrograd.int64


def test_shuffle_reproducible_with_generator_and_global_seed():
    ds = TensorDataset(retrograd.arange(100))

    def epoch(loader):
        return np.concatenate([b[0].numpy() for b in loader])

    a = epoch(DataLoader(ds, batch_size=16, shuffle=True, generator=gen(7)))
    b = epoch(DataLoader(ds, batch_size=16, shuffle=True, generator=gen(7)))
    c = epoch(DataLoader(ds, batch_size=16, shuffle=True, generator=gen(8)))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    np.testing.assert_array_equal(np.sort(a), np.arange(100))  # each sample once per epoch

    loader = DataLoader(ds, batch_size=16, shuffle=True, generator=gen(7))
    e1, e2 = epoch(loader), epoch(loader)
    assert not np.array_equal(e1, e2)  # reshuffled every epoch
    np.testing.assert_array_equal(e1, a)

    retrograd.manual_seed(123)
    g1 = epoch(DataLoader(ds, batch_size=10, shuffle=True))
    retrograd.manual_seed(123)
    g2 = epoch(DataLoader(ds, batch_size=10, shuffle=True))
    np.testing.assert_array_equal(g1, g2)


def _slow(batch):
    # Not the default collate_fn object, so the loader takes the per-sample route.
    return default_collate(batch)


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("seed", [0, 1])
def test_fast_path_equals_slow_path(seed, drop_last):
    rng = np.random.default_rng(seed)
    X = retrograd.from_numpy(rng.standard_normal((37, 3, 4)).astype(np.float32))
    y = retrograd.from_numpy(rng.integers(0, 5, 37))
    w = retrograd.from_numpy(rng.random(37))  # float64 column
    b = retrograd.from_numpy(rng.random(37) < 0.5)  # bool column
    full = TensorDataset(X, y, w, b)
    train, _ = random_split(full, [0.7, 0.3], generator=gen(seed))
    nested = Subset(train, list(range(len(train) - 1, -1, -2)))
    for ds in (full, train, nested):
        fast = DataLoader(ds, batch_size=8, shuffle=True, drop_last=drop_last,
                          generator=gen(seed))
        slow = DataLoader(ds, batch_size=8, shuffle=True, drop_last=drop_last,
                          generator=gen(seed), collate_fn=_slow)
        assert iter(fast)._source is not None and iter(slow)._source is None
        fb, sb = list(fast), list(slow)
        assert len(fb) == len(sb) == len(fast)
        for f, s in zip(fb, sb):
            assert isinstance(f, list) and isinstance(s, list) and len(f) == 4
            for ft, st in zip(f, s):
                assert ft.dtype == st.dtype and tuple(ft.shape) == tuple(st.shape)
                np.testing.assert_array_equal(ft.numpy(), st.numpy())


def test_fast_path_with_samplers_and_batch_sampler():
    X = retrograd.arange(30.0).reshape(10, 3)
    ds = TensorDataset(X)
    weights = np.linspace(0.0, 1.0, 10)
    for make in (
        lambda: dict(sampler=WeightedRandomSampler(weights, 25, generator=gen(3)), batch_size=4),
        lambda: dict(sampler=SubsetRandomSampler([1, 3, 5, 7], generator=gen(3)), batch_size=3),
        lambda: dict(batch_sampler=[[0, 9], [5], [2, 2, 2]]),
        lambda: dict(sampler=[9, 8, 7], batch_size=2),
    ):
        fast = [b[0].numpy() for b in DataLoader(ds, **make())]
        slow = [b[0].numpy() for b in DataLoader(ds, collate_fn=_slow, **make())]
        assert len(fast) == len(slow) > 0
        for f, s in zip(fast, slow):
            np.testing.assert_array_equal(f, s)
    rows = [b[0].numpy()[:, 0] for b in DataLoader(ds, batch_sampler=[[0, 9], [5]])]
    np.testing.assert_array_equal(rows[0], [0.0, 27.0])


def test_fast_path_only_for_exact_tensor_datasets():
    X, y = retrograd.zeros(4, 2), retrograd.arange(4)
    assert dl_module._tensor_source(TensorDataset(X, y)) is not None
    assert dl_module._tensor_source(Subset(TensorDataset(X, y), [3, 1])) is not None

    class Doubled(TensorDataset):
        def __getitem__(self, i):
            x, t = super().__getitem__(i)
            return x + 1.0, t

    assert dl_module._tensor_source(Doubled(X, y)) is None
    xb, _ = next(iter(DataLoader(Doubled(X, y), batch_size=4)))
    np.testing.assert_array_equal(xb.numpy(), np.ones((4, 2)))  # override honoured
    assert dl_module._tensor_source(TensorDataset(retrograd.zeros(4, requires_grad=True))) is None


def test_fast_path_out_of_range_index_is_clear():
    loader = DataLoader(TensorDataset(retrograd.zeros(3)), sampler=[0, 5], batch_size=2)
    with pytest.raises(IndexError, match="index 5 is out of range for a TensorDataset of length 3"):
        list(loader)


def test_no_auto_batching_and_batch_sampler():
    loader = DataLoader(Squares(3), batch_size=None)
    items = list(loader)
    assert len(loader) == 3 and len(items) == 3
    assert isinstance(items[1][0], retrograd.Tensor) and items[1][1] == 1  # converted, not batched
    loader = DataLoader(Squares(6), batch_sampler=[[0, 1, 2], [5]])
    assert [b[1].tolist() for b in loader] == [[0, 1, 2], [5]]
    assert len(loader) == 2


def test_dict_samples_and_custom_collate():
    class Records(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return {"x": np.full(2, i, dtype=np.float32), "id": f"r{i}"}

    batch = next(iter(DataLoader(Records(), batch_size=3)))
    assert batch["id"] == ["r0", "r1", "r2"]
    np.testing.assert_array_equal(batch["x"].numpy()[:, 0], [0, 1, 2])
    ids = [b for b in DataLoader(Records(), batch_size=2, collate_fn=lambda s: len(s))]
    assert ids == [2, 2, 1]


def test_iterable_dataset_loading():
    class Count(IterableDataset):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n))

        def __len__(self):
            return self.n

    loader = DataLoader(Count(7), batch_size=3)
    assert [b.tolist() for b in loader] == [[0, 1, 2], [3, 4, 5], [6]]
    assert len(loader) == 3
    loader = DataLoader(Count(7), batch_size=3, drop_last=True)
    assert [b.tolist() for b in loader] == [[0, 1, 2], [3, 4, 5]] and len(loader) == 2
    assert [int(v) for v in DataLoader(Count(3), batch_size=None)] == [0, 1, 2]
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        DataLoader(Count(3), shuffle=True)
    with pytest.raises(ValueError, match="expected unspecified sampler option"):
        DataLoader(Count(3), sampler=[0])


def test_worker_options_accepted_and_load_in_main_process():
    ds = TensorDataset(retrograd.arange(10))
    calls = []
    loader = DataLoader(ds, batch_size=4, num_workers=4, pin_memory=True, timeout=5,
                        worker_init_fn=calls.append, prefetch_factor=3, persistent_workers=True)
    got = [b[0].tolist() for b in loader]
    assert got == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert calls == [] and get_worker_info() is None
    assert loader.num_workers == 4 and loader.prefetch_factor == 3


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(num_workers=-1), "num_workers option should be non-negative"),
        (dict(timeout=-1), "timeout option should be non-negative"),
        (dict(prefetch_factor=2), "prefetch_factor option could only be specified"),
        (dict(persistent_workers=True), "persistent_workers option needs num_workers > 0"),
        (dict(sampler=[0, 1], shuffle=True), "sampler option is mutually exclusive with shuffle"),
        (dict(batch_sampler=[[0]], batch_size=2), "batch_sampler option is mutually exclusive"),
        (dict(batch_sampler=[[0]], drop_last=True), "batch_sampler option is mutually exclusive"),
        (dict(batch_size=None, drop_last=True), "batch_size=None option disables auto-batching"),
    ],
)
def test_loader_argument_errors_match_torch(kwargs, match):
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match=match):
        DataLoader(Squares(4), **kwargs)
    with pytest.raises(ValueError):
        torch.utils.data.DataLoader(range(4), **kwargs)


def test_loader_attributes_frozen_after_init():
    loader = DataLoader(Squares(4), batch_size=2)
    with pytest.raises(ValueError, match="batch_size attribute should not be set"):
        loader.batch_size = 3
    loader.collate_fn = default_collate  # not frozen, as in PyTorch
    assert loader.collate_fn is default_collate


def test_custom_sampler_subclass_and_len():
    class Evens(Sampler):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(0, self.n, 2))

        def __len__(self):
            return math.ceil(self.n / 2)

    loader = DataLoader(TensorDataset(retrograd.arange(10)), sampler=Evens(10), batch_size=2)
    assert len(loader) == 3
    assert [b[0].tolist() for b in loader] == [[0, 2], [4, 6], [8]]
