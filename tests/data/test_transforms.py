"""retrograd.data transforms and batch augmentation: known answers, PyTorch's
affine_grid + grid_sample as the oracle for RandomAffine, and reproducibility."""

import numpy as np
import pytest

import retrograd
from retrograd.data import (
    Compose,
    GaussianNoise,
    Lambda,
    Normalize,
    OneHot,
    RandomAffine,
    RandomCrop,
    RandomHorizontalFlip,
    RandomVerticalFlip,
    Standardize,
    ToTensor,
    affine,
)


def gen(seed):
    return retrograd.Generator().manual_seed(seed)


@pytest.fixture
def images():
    return np.random.default_rng(0).random((6, 3, 7, 7)).astype(np.float32)


# ---------------------------------------------------------------- ToTensor / Normalize


def test_to_tensor():
    img = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    t = ToTensor()(img)
    assert isinstance(t, retrograd.Tensor) and t.dtype == retrograd.float32
    assert tuple(t.shape) == (1, 3, 4)
    np.testing.assert_array_equal(t.numpy()[0], img / np.float32(255))
    hwc = np.random.default_rng(0).integers(0, 256, (5, 6, 3)).astype(np.uint8)
    t = ToTensor()(hwc)
    assert tuple(t.shape) == (3, 5, 6)
    np.testing.assert_array_equal(t.numpy()[2], hwc[:, :, 2] / np.float32(255))
    f = np.full((2, 2), 3.0)
    assert ToTensor()(f).dtype == retrograd.float64 and ToTensor()(f).numpy().max() == 3.0
    with pytest.raises(ValueError, match="2 or 3 dimensional"):
        ToTensor()(np.zeros((2, 2, 2, 2)))


def test_normalize_matches_formula_and_torch(images):
    torch = pytest.importorskip("torch")
    mean, std = (0.5, 0.4, 0.3), (0.2, 0.25, 0.5)
    out = Normalize(mean, std)(retrograd.from_numpy(images))
    ref = (torch.from_numpy(images) - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[
        :, None, None]
    assert isinstance(out, retrograd.Tensor) and out.dtype == retrograd.float32
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-6, atol=1e-7)
    single = Normalize(mean, std)(images[0])  # one (C, H, W) array
    assert isinstance(single, np.ndarray)
    np.testing.assert_allclose(single, ref.numpy()[0], rtol=1e-6, atol=1e-7)
    one = Normalize((0.1307,), (0.3081,))(images)  # one value for every channel
    np.testing.assert_allclose(one, (images - 0.1307) / 0.3081, rtol=1e-5)
    x = images.copy()
    assert Normalize(mean, std, inplace=True)(x) is x
    np.testing.assert_allclose(x, ref.numpy(), rtol=1e-6, atol=1e-7)


def test_normalize_gradient_and_errors():
    x = retrograd.rand(2, 2, 3, 3, requires_grad=True)
    Normalize((0.0, 1.0), (2.0, 4.0))(x).sum().backward()
    grad = x.grad.numpy()
    np.testing.assert_allclose(grad[:, 0], 0.5)
    np.testing.assert_allclose(grad[:, 1], 0.25)
    t = retrograd.ones(1, 2, 2)
    assert Normalize((0.5,), (0.25,), inplace=True)(t) is t
    np.testing.assert_array_equal(t.numpy(), np.full((1, 2, 2), 2.0, np.float32))
    with pytest.raises(TypeError, match="float tensor"):
        Normalize((0.5,), (0.5,))(np.zeros((1, 2, 2), np.uint8))
    with pytest.raises(ValueError, match="mean has 2 values but the input has 3 channels"):
        Normalize((0.5, 0.5), (1.0, 1.0, 1.0))(np.zeros((3, 2, 2), np.float32))
    with pytest.raises(ValueError, match="std evaluated to zero"):
        Normalize((0.5,), (0.0,))(np.zeros((1, 2, 2), np.float32))


# ---------------------------------------------------------------- Standardize / OneHot


def test_standardize_fit_on_train_then_test():
    rng = np.random.default_rng(1)
    train = (rng.standard_normal((200, 4)) * [1.0, 2.0, 3.0, 0.0] + [5.0, -1.0, 0.0, 7.0])
    train = train.astype(np.float32)
    test = (rng.standard_normal((50, 4)) * 2.0).astype(np.float32)
    s = Standardize().fit(retrograd.from_numpy(train))
    out = s(retrograd.from_numpy(train)).numpy()
    np.testing.assert_allclose(out[:, :3].mean(0), 0.0, atol=1e-5)
    np.testing.assert_allclose(out[:, :3].std(0), 1.0, atol=1e-5)
    np.testing.assert_allclose(out[:, 3], 0.0)  # constant feature: centred, not divided by 0
    mean64, std64 = train.astype(np.float64).mean(0), train.astype(np.float64).std(0)
    std64[std64 == 0] = 1.0
    test_out = s.transform(test)
    assert isinstance(test_out, np.ndarray) and test_out.dtype == np.float32
    np.testing.assert_allclose(test_out, (test - mean64) / std64, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(s.inverse_transform(test_out), test, rtol=1e-5, atol=1e-5)

    state = s.state_dict()
    assert set(state) == {"mean", "std"} and isinstance(state["mean"], retrograd.Tensor)
    assert state["mean"].dtype == retrograd.float32
    restored = Standardize().load_state_dict(state)
    np.testing.assert_array_equal(restored(test), test_out)
    with pytest.raises(RuntimeError, match="not fitted"):
        Standardize().transform(test)


def test_standardize_per_channel_images(images):
    s = Standardize(dim=(0, 2, 3)).fit(images)
    assert s.mean.shape == (3, 1, 1)
    out = s(images)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0.0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=(0, 2, 3)), 1.0, atol=1e-5)
    np.testing.assert_allclose(s(images[0]), out[0], rtol=1e-6)  # one image works too
    with pytest.raises(ValueError, match="must include 0"):
        Standardize(dim=1)


def test_one_hot_compose_lambda():
    np.testing.assert_array_equal(OneHot(4)(2).numpy(), [0.0, 0.0, 1.0, 0.0])
    out = OneHot(3)(retrograd.tensor([0, 2, 1]))
    assert out.dtype == retrograd.float32
    np.testing.assert_array_equal(out.numpy(), np.eye(3)[[0, 2, 1]])
    with pytest.raises(ValueError, match="label 3 is out of range for num_classes=3"):
        OneHot(3)(np.array([0, 3]))
    pipeline = Compose([ToTensor(), Normalize((0.5,), (0.5,)), Lambda(lambda t: t.reshape(-1))])
    out = pipeline(np.array([[0, 255]], dtype=np.uint8))
    np.testing.assert_allclose(out.numpy(), [-1.0, 1.0])
    assert "Normalize" in repr(pipeline)


# ---------------------------------------------------------------- RandomAffine / affine


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_random_affine_90_degrees_is_rot90(images, interpolation):
    aug = RandomAffine(degrees=(90, 90), interpolation=interpolation)
    out = aug(images)
    np.testing.assert_allclose(out, np.rot90(images, k=1, axes=(2, 3)), atol=1e-5)
    single = aug(retrograd.from_numpy(images[0]))  # one (C, H, W) Tensor
    assert isinstance(single, retrograd.Tensor) and tuple(single.shape) == (3, 7, 7)
    np.testing.assert_allclose(single.numpy(), np.rot90(images[0], axes=(1, 2)), atol=1e-5)
    gray = aug(images[0, 0])  # (H, W)
    np.testing.assert_allclose(gray, np.rot90(images[0, 0]), atol=1e-5)
    np.testing.assert_allclose(RandomAffine(degrees=(180, 180))(images),
                               images[:, :, ::-1, ::-1], atol=1e-5)


def test_affine_matches_torch_grid_sample():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(2)
    N, C, H, W = 3, 2, 6, 9
    x = rng.random((N, C, H, W)).astype(np.float32)
    angle, scale = np.array([30.0, -50.0, 200.0]), np.array([1.2, 0.8, 1.0])
    shift = np.array([[0.5, -1.0], [0.0, 2.25], [-3.0, 0.0]])
    # The same map in grid_sample's normalised coordinates (align_corners=True).
    th, sx, sy = np.deg2rad(angle), (W - 1) / 2, (H - 1) / 2
    c, s = np.cos(th) / scale, np.sin(th) / scale
    theta = np.zeros((N, 2, 3))
    theta[:, 0, 0], theta[:, 0, 1] = c, -s * sy / sx
    theta[:, 1, 0], theta[:, 1, 1] = s * sx / sy, c
    theta[:, 0, 2] = -(c * shift[:, 0] - s * shift[:, 1]) / sx
    theta[:, 1, 2] = -(s * shift[:, 0] + c * shift[:, 1]) / sy
    grid = F.affine_grid(torch.tensor(theta, dtype=torch.float32), (N, C, H, W),
                         align_corners=True)
    for mode in ("bilinear", "nearest"):
        ref = F.grid_sample(torch.from_numpy(x), grid, mode=mode, padding_mode="zeros",
                            align_corners=True).numpy()
        out = affine(x, angle, translate=shift, scale=scale, interpolation=mode)
        assert out.dtype == np.float32
        np.testing.assert_allclose(out, ref, atol=1e-5)


def test_affine_translation_and_fill():
    img = np.arange(16, dtype=np.float32).reshape(1, 4, 4)
    out = affine(img, angle=0.0, translate=(1, 2), interpolation="nearest", fill=-1.0)
    expected = np.full((1, 4, 4), -1.0, np.float32)
    expected[0, 2:, 1:] = img[0, :2, :3]
    np.testing.assert_array_equal(out, expected)
    u8 = (np.arange(16).reshape(4, 4) * 10).astype(np.uint8)
    rotated = affine(u8, angle=90.0)
    assert rotated.dtype == np.uint8
    np.testing.assert_array_equal(rotated, np.rot90(u8))


def test_random_affine_draws_per_image_and_is_reproducible(images):
    batch = np.repeat(images[:1], 8, axis=0)
    aug = RandomAffine(degrees=30, translate=(0.1, 0.1), scale=(0.9, 1.1), generator=gen(0))
    out = aug(batch)
    assert out.shape == batch.shape and out.dtype == np.float32
    assert len({out[i].tobytes() for i in range(8)}) == 8  # each image its own parameters
    again = RandomAffine(degrees=30, translate=(0.1, 0.1), scale=(0.9, 1.1), generator=gen(0))
    np.testing.assert_array_equal(again(batch), out)
    np.testing.assert_allclose(RandomAffine(degrees=0)(images), images, atol=1e-6)
    with pytest.raises(ValueError, match="translate should be a pair of fractions"):
        RandomAffine(0, translate=(2.0, 0.0))
    with pytest.raises(ValueError, match=r"expected a batch of images \(N, C, H, W\)"):
        RandomAffine(10)(np.zeros((1, 1, 1, 2, 2)))


# ---------------------------------------------------------------- RandomCrop


def test_random_crop_with_padding_picks_windows_of_the_padded_image(images):
    crop = RandomCrop(7, padding=2, generator=gen(1))
    out = crop(images)
    assert out.shape == images.shape
    padded = np.pad(images, ((0, 0), (0, 0), (2, 2), (2, 2)))
    offsets = []
    for n in range(len(images)):  # test-side search over the 25 possible windows
        hits = [(i, j) for i in range(5) for j in range(5)
                if np.array_equal(out[n], padded[n, :, i:i + 7, j:j + 7])]
        assert hits, f"image {n} is not a window of the padded image"
        offsets.append(hits[0])
    assert len(set(offsets)) > 1  # positions drawn per image
    np.testing.assert_array_equal(RandomCrop(7, padding=2, generator=gen(1))(images), out)


def test_random_crop_shapes_modes_and_errors(images):
    t = RandomCrop((3, 5))(retrograd.from_numpy(images[0]))
    assert isinstance(t, retrograd.Tensor) and tuple(t.shape) == (3, 3, 5)
    assert RandomCrop(4)(images[0, 0]).shape == (4, 4)
    np.testing.assert_array_equal(RandomCrop(7)(images), images)  # nothing to choose
    edge = RandomCrop(9, padding=1, padding_mode="edge", generator=gen(0))(images)
    np.testing.assert_array_equal(edge, np.pad(images, ((0, 0), (0, 0), (1, 1), (1, 1)),
                                               mode="edge"))
    lr_tb = RandomCrop((9, 11), padding=(2, 1))(images)  # (left/right, top/bottom)
    assert lr_tb.shape == (6, 3, 9, 11)
    assert RandomCrop(10, pad_if_needed=True)(images).shape == (6, 3, 10, 10)
    with pytest.raises(ValueError, match=r"required crop size \(8, 8\) is larger"):
        RandomCrop(8)(images)


# ---------------------------------------------------------------- flips and noise


def test_flips(images):
    np.testing.assert_array_equal(RandomHorizontalFlip(p=1.0)(images), np.flip(images, -1))
    np.testing.assert_array_equal(RandomVerticalFlip(p=1.0)(images), np.flip(images, -2))
    np.testing.assert_array_equal(RandomHorizontalFlip(p=0.0)(images), images)
    batch = np.repeat(images[:1], 64, axis=0)
    out = RandomHorizontalFlip(generator=gen(3))(batch)
    flipped = np.array([np.array_equal(o, np.flip(images[0], -1)) for o in out])
    same = np.array([np.array_equal(o, images[0]) for o in out])
    assert np.all(flipped ^ same) and 10 < flipped.sum() < 54
    t = RandomHorizontalFlip(p=1.0)(retrograd.from_numpy(images[0]))
    assert isinstance(t, retrograd.Tensor)
    np.testing.assert_array_equal(t.numpy(), images[0][:, :, ::-1])


def test_gaussian_noise():
    x = np.zeros((4, 1, 100, 100), np.float32)
    out = GaussianNoise(std=0.5, mean=0.1, generator=gen(0))(x)
    assert out.dtype == np.float32 and out.shape == x.shape
    assert abs(out.mean() - 0.1) < 0.01 and abs(out.std() - 0.5) < 0.01
    np.testing.assert_array_equal(GaussianNoise(0.5, 0.1, generator=gen(0))(x), out)
    clipped = GaussianNoise(std=1.0, clip=(0.0, 1.0))(retrograd.from_numpy(x))
    assert isinstance(clipped, retrograd.Tensor)
    assert clipped.numpy().min() == 0.0 and clipped.numpy().max() == 1.0
    with pytest.raises(TypeError, match="expects float images"):
        GaussianNoise()(np.zeros((1, 2, 2), np.uint8))


def test_augmentations_follow_global_seed(images):
    pipeline = Compose([RandomAffine(15, translate=(0.1, 0.1)), RandomCrop(7, padding=1),
                        RandomHorizontalFlip(), GaussianNoise(0.05)])
    retrograd.manual_seed(11)
    a = pipeline(images)
    retrograd.manual_seed(11)
    np.testing.assert_array_equal(pipeline(images), a)
