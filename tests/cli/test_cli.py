"""The `retrograd` command end to end on small data, and its error messages."""

import json

import numpy as np
import pytest

import retrograd as rg
from retrograd.cli import main


def run(argv, capsys):
    rc = main(argv)
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    rc = main(["train", "--epochs", "4", "--out", str(out), "--quiet"])
    assert rc == 0
    return out


def test_train_writes_model_history_and_plots(trained):
    for name in ("model.safetensors", "history.json", "history.csv", "learning_curves.png",
                 "confusion_matrix.png", "checkpoint.safetensors", "metrics.json"):
        assert (trained / name).exists(), name
    hist = json.loads((trained / "history.json").read_text())
    assert len(hist["history"]["loss"]) == 4
    assert hist["history"]["loss"][-1] < hist["history"]["loss"][0]
    assert (trained / "learning_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    csv_lines = (trained / "history.csv").read_text().strip().splitlines()
    assert len(csv_lines) == 5 and "val_accuracy" in csv_lines[0]
    metrics = json.loads((trained / "metrics.json").read_text())
    assert metrics["test_accuracy"] > 0.85


def test_same_seed_same_history(tmp_path, trained):
    rc = main(["train", "--epochs", "4", "--out", str(tmp_path), "--quiet"])
    assert rc == 0
    a = json.loads((trained / "history.json").read_text())["history"]
    b = json.loads((tmp_path / "history.json").read_text())["history"]
    assert a["loss"] == b["loss"] and a["val_accuracy"] == b["val_accuracy"]


def test_resume_continues_like_an_uninterrupted_run(tmp_path):
    full, part = tmp_path / "full", tmp_path / "part"
    assert main(["train", "--epochs", "4", "--out", str(full), "--quiet", "--no-plots"]) == 0
    assert main(["train", "--epochs", "2", "--out", str(part), "--quiet", "--no-plots"]) == 0
    assert main(["train", "--epochs", "4", "--out", str(part), "--quiet", "--no-plots",
                 "--resume", str(part / "checkpoint.safetensors")]) == 0
    a = json.loads((full / "history.json").read_text())["history"]
    b = json.loads((part / "history.json").read_text())["history"]
    assert a["loss"] == b["loss"]
    wa = rg.load(str(full / "model.safetensors"))["state_dict"]
    wb = rg.load(str(part / "model.safetensors"))["state_dict"]
    for k in wa:
        np.testing.assert_array_equal(wa[k].numpy(), wb[k].numpy())


def test_evaluate_and_predict(trained, tmp_path, capsys):
    rc, out, _ = run(["evaluate", str(trained / "model.safetensors")], capsys)
    assert rc == 0 and "accuracy" in out and "confusion matrix" in out
    X, y = rg.data.load_digits(return_tensors=False, flatten=True)
    np.save(tmp_path / "x.npy", X[:20])
    rc, out, _ = run(["predict", str(trained / "model.safetensors"), str(tmp_path / "x.npy")], capsys)
    assert rc == 0
    rows = out.strip().splitlines()[1:]
    pred = np.array([int(r.split("\t")[1]) for r in rows])
    assert len(pred) == 20 and (pred == y[:20]).mean() >= 0.8


def test_toy_dataset_trains(tmp_path, capsys):
    rc, out, _ = run(["train", "--dataset", "moons", "--epochs", "30", "--out", str(tmp_path),
                      "--no-plots", "--quiet"], capsys)
    assert rc == 0
    acc = float(out.split("test accuracy:")[1].split("%")[0])
    assert acc > 85


@pytest.mark.parametrize("argv, needle", [
    (["train", "--lr", "-1"], "expected a positive number"),
    (["train", "--epochs", "zero"], "expected a positive integer"),
    (["train", "--dataset", "imagenet"], "invalid choice"),
    (["train", "--hidden", "12,x"], "comma-separated"),
    (["train", "--model", "lenet"], "needs 28x28 images"),
    (["evaluate", "/no/such/model.safetensors"], "no such model file"),
])
def test_bad_arguments_give_one_clear_line(argv, needle, capsys, tmp_path):
    if argv[0] == "train":
        argv = argv + ["--out", str(tmp_path), "--quiet"]
    try:
        rc = main(argv)
    except SystemExit as e:
        rc = e.code
    err = capsys.readouterr().err
    assert rc == 2
    assert needle in err
    assert "Traceback" not in err


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for cmd in ("train", "evaluate", "predict"):
        assert cmd in out


@pytest.mark.parametrize("argv, needle", [
    (["train", "--model", "char-lstm", "--dataset", "digits"], "bundled text"),
    (["train", "--dataset", "text", "--model", "mlp"], "use --model char-lstm"),
])
def test_text_model_and_dataset_must_agree(argv, needle, capsys, tmp_path):
    assert main(argv + ["--out", str(tmp_path)]) == 2
    assert needle in capsys.readouterr().err
