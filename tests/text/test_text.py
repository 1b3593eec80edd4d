"""The character-level LSTM worked example: bundled text, vocabulary, truncated-BPTT
batching, the model, perplexity, sampling, and `retrograd train --dataset text`."""

import argparse
import hashlib
import json
import math

import numpy as np
import pytest

import retrograd
import retrograd.nn as nn
from retrograd import models
from retrograd.cli import main
from retrograd.text import (
    TEXT_INFO,
    CharLSTM,
    CharVocab,
    batchify,
    bptt_windows,
    evaluate_char_lstm,
    evaluate_perplexity,
    load_char_lstm,
    load_text,
    sample,
    train_char_lstm,
    unigram_perplexity,
)

# ---------------------------------------------------------------- the bundled text


def test_bundled_text_is_the_book_without_the_licence_boilerplate():
    text = load_text()
    assert len(text) == TEXT_INFO["characters"] == 144190
    assert hashlib.sha256(text.encode("ascii")).hexdigest() == TEXT_INFO["sha256"]
    assert text.startswith("ALICE'S ADVENTURES IN WONDERLAND\n\nLewis Carroll")
    assert text.rstrip().endswith("THE END")
    assert text.count("CHAPTER ") == 12
    assert "Project Gutenberg" not in text and "*** START" not in text
    assert "public domain" in TEXT_INFO["licence"] and "#11" in TEXT_INFO["source"]


# ---------------------------------------------------------------- vocabulary


def test_vocab_round_trip_on_the_book():
    text = load_text()
    vocab = CharVocab.from_text(text)
    assert vocab.chars == "".join(sorted(set(text))) and len(vocab) == 69
    ids = vocab.encode(text)
    assert ids.dtype == np.int64 and ids.shape == (len(text),)
    assert vocab.decode(ids) == text
    assert CharVocab.from_string(vocab.to_string()) == vocab
    assert vocab.stoi["a"] == vocab.chars.index("a") and vocab.itos[vocab.stoi["Z"]] == "Z"


def test_vocab_known_answers_and_errors():
    vocab = CharVocab.from_text("hello")
    assert vocab.chars == "ehlo"
    assert vocab.encode("hole").tolist() == [1, 3, 2, 0]
    assert vocab.decode([1, 0, 2, 2, 3]) == "hello"
    assert vocab.decode(retrograd.tensor([3, 2])) == "ol"
    assert vocab.decode([]) == ""
    uni = CharVocab("aé€😀")   # any Unicode character, not only ASCII
    assert uni.decode(uni.encode("😀€éa")) == "😀€éa"
    with pytest.raises(ValueError, match=r"3 character\(s\) not in the vocabulary of 4: '-xz'"):
        vocab.encode("hex-z")
    with pytest.raises(ValueError, match=r"ids must be in \[0, 3\]"):
        vocab.decode([0, 4])
    with pytest.raises(ValueError, match="no characters"):
        CharVocab("")


# ---------------------------------------------------------------- batching


def test_batchify_makes_contiguous_streams():
    s = batchify(np.arange(103), 4)
    assert s.shape == (4, 25) and s.dtype == np.int64
    np.testing.assert_array_equal(s, np.arange(100).reshape(4, 25))   # 3 ids dropped
    with pytest.raises(ValueError, match="too few"):
        batchify(np.arange(7), 4)


def test_bptt_windows_are_exact():
    s = batchify(np.arange(100), 4)             # rows 0..24, 25..49, ...
    windows = bptt_windows(s, 10)
    assert [tuple(x.shape) for x, _ in windows] == [(4, 10), (4, 10), (4, 4)]
    x0, y0 = windows[0]
    np.testing.assert_array_equal(x0.numpy()[1], np.arange(25, 35))
    np.testing.assert_array_equal(y0.numpy()[1], np.arange(26, 36))
    # together the windows read every stream once, inputs and next-character targets
    np.testing.assert_array_equal(np.concatenate([x.numpy() for x, _ in windows], 1), s[:, :-1])
    np.testing.assert_array_equal(np.concatenate([y.numpy() for _, y in windows], 1), s[:, 1:])
    assert len(bptt_windows(s, 24)) == 1 and len(bptt_windows(s, 23)) == 2


# ---------------------------------------------------------------- the model


def test_model_shapes_config_and_errors():
    model = CharLSTM(30, embedding_dim=8, hidden_size=16, num_layers=2)
    logits, (h, c) = model(retrograd.randint(0, 30, (4, 7)))
    assert tuple(logits.shape) == (4, 7, 30)
    assert tuple(h.shape) == (2, 4, 16) and tuple(c.shape) == (2, 4, 16)
    single, _ = model(retrograd.randint(0, 30, (7,)))
    assert tuple(single.shape) == (7, 30)
    rebuilt = models.build(models.config_of(model))
    assert isinstance(rebuilt, CharLSTM) and rebuilt.config == model.config
    assert model.config["name"] == "char-lstm"
    n_params = sum(p.numel() for p in model.parameters())
    # embedding + 2 LSTM layers (4 gates) + decoder
    assert n_params == 30 * 8 + 4 * 16 * (8 + 16 + 2) + 4 * 16 * (16 + 16 + 2) + 16 * 30 + 30
    with pytest.raises(TypeError, match="integer character ids"):
        model(retrograd.randn(4, 7))
    with pytest.raises(ValueError, match="hidden_size"):
        CharLSTM(30, hidden_size=0)


def test_carried_state_continues_the_stream_and_detach_cuts_the_graph():
    model = CharLSTM(12, embedding_dim=4, hidden_size=8)
    x = retrograd.randint(0, 12, (3, 20))
    whole, _ = model(x)
    first, state = model(x[:, :11])
    state = tuple(s.detach() for s in state)
    assert all(s.grad_fn is None and not s.requires_grad for s in state)
    second, _ = model(x[:, 11:], state)
    np.testing.assert_allclose(np.concatenate([first.detach().numpy(), second.detach().numpy()],
                                              1), whole.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_short_training_lowers_the_loss():
    retrograd.manual_seed(0)
    text = load_text()[:6000]
    vocab = CharVocab.from_text(text)
    model = CharLSTM(len(vocab), embedding_dim=16, hidden_size=48)
    opt = retrograd.optim.Adam(model.parameters(), lr=1e-2)
    windows = bptt_windows(batchify(vocab.encode(text), 16), 25)
    losses, state = [], None
    for _ in range(3):
        for x, y in windows:
            logits, state = model(x, state)
            state = tuple(s.detach() for s in state)
            loss = nn.functional.cross_entropy(logits.reshape(-1, len(vocab)), y.reshape(-1))
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            losses.append(loss.item())
    assert losses[0] == pytest.approx(math.log(len(vocab)), abs=0.3)   # uniform at start
    assert np.mean(losses[-5:]) < losses[0] - 1.0


# ---------------------------------------------------------------- perplexity


def test_perplexity_known_answers():
    # a decoder with zero weights and bias predicts the uniform distribution: perplexity V
    model = CharLSTM(7, embedding_dim=3, hidden_size=5)
    with retrograd.no_grad():
        model.decoder.weight.zero_()
        model.decoder.bias.zero_()
    loss, ppl = evaluate_perplexity(model, np.arange(200) % 7, batch_size=4, seq_len=9)
    assert loss == pytest.approx(math.log(7), rel=1e-6) and ppl == pytest.approx(7, rel=1e-5)
    # unigram: counts (2, 1) + 1 -> p(0) = 0.6
    assert unigram_perplexity([0, 0, 1], [0], 2) == pytest.approx(1 / 0.6)
    assert unigram_perplexity(np.arange(10), np.arange(10), 10) == pytest.approx(10)


# ---------------------------------------------------------------- sampling


@pytest.fixture(scope="module")
def small_model():
    retrograd.manual_seed(3)
    vocab = CharVocab.from_text(load_text())
    return CharLSTM(len(vocab), embedding_dim=8, hidden_size=16), vocab


def test_sampling_is_reproducible_with_a_seeded_generator(small_model):
    model, vocab = small_model
    a = sample(model, vocab, "Alice ", 60, 1.0, retrograd.Generator().manual_seed(11))
    b = sample(model, vocab, "Alice ", 60, 1.0, retrograd.Generator().manual_seed(11))
    c = sample(model, vocab, "Alice ", 60, 1.0, retrograd.Generator().manual_seed(12))
    assert a == b and a != c
    assert len(a) == 60 and set(a) <= set(vocab.chars)
    retrograd.manual_seed(5)
    d = sample(model, vocab, "", 30)
    retrograd.manual_seed(5)
    assert sample(model, vocab, "", 30) == d     # the global generator, seeded


def test_sampling_respects_temperature(small_model):
    model, vocab = small_model
    # greedy decoding by hand
    ids = list(vocab.encode("The "))
    for _ in range(40):
        logits, _ = model(retrograd.tensor([ids]))
        ids.append(int(logits.detach().numpy()[0, -1].argmax()))
    greedy = vocab.decode(ids[4:])
    assert sample(model, vocab, "The ", 40, temperature=0) == greedy
    # a very low temperature is (almost surely) the argmax too
    gen = retrograd.Generator().manual_seed(0)
    assert sample(model, vocab, "The ", 40, temperature=1e-4, generator=gen) == greedy
    # a high temperature spreads the choice over more characters, a low one concentrates it
    # (this untrained model's logits differ little, so "low" must be quite low)
    gen = retrograd.Generator().manual_seed(0)
    hot = sample(model, vocab, "The ", 400, temperature=3.0, generator=gen)
    cold = sample(model, vocab, "The ", 400, temperature=0.03, generator=gen)
    assert len(set(hot)) > 2 * len(set(cold))
    assert max(map(cold.count, set(cold))) > 4 * max(map(hot.count, set(hot)))
    with pytest.raises(ValueError, match="temperature"):
        sample(model, vocab, "The ", 5, temperature=-1.0)
    with pytest.raises(ValueError, match="not in the vocabulary"):
        sample(model, vocab, "The {", 5)


# ---------------------------------------------------------------- training entry points


def _args(out, **kw):
    base = {"epochs": 2, "hidden": [16], "batch_size": 16, "seq_len": 20, "max_batches": 3,
            "sample_length": 40, "out": str(out), "quiet": True, "no_plots": True, "seed": 0}
    base.update(kw)
    return argparse.Namespace(**base)


def test_resume_continues_like_an_uninterrupted_run(tmp_path):
    full, part = tmp_path / "full", tmp_path / "part"
    assert train_char_lstm(_args(full)) == 0
    assert train_char_lstm(_args(part, epochs=1)) == 0
    assert train_char_lstm(_args(part, resume=str(part / "checkpoint.safetensors"))) == 0
    a = json.loads((full / "history.json").read_text())["history"]
    b = json.loads((part / "history.json").read_text())["history"]
    assert len(a["loss"]) == 2 and a["loss"] == b["loss"] and a["val_loss"] == b["val_loss"]
    assert (full / "samples.txt").read_text() == (part / "samples.txt").read_text()


def test_cli_train_text_char_lstm_end_to_end(tmp_path, capsys):
    rc = main(["train", "--dataset", "text", "--model", "char-lstm", "--epochs", "1",
               "--hidden", "32", "--batch-size", "64", "--seq-len", "25", "--lr", "0.01",
               "--temperature", "0.5", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0
    assert "unigram baseline: validation perplexity 24.29" in out
    assert "epoch 1/1" in out and "val perplexity" in out and "sample (temperature 0.5)" in out
    for name in ("model.safetensors", "history.json", "samples.txt", "metrics.json",
                 "checkpoint.safetensors", "learning_curves.png"):
        assert (tmp_path / name).exists(), name
    assert (tmp_path / "learning_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["val_perplexity"] < metrics["unigram_perplexity"]   # learned beyond letters
    hist = json.loads((tmp_path / "history.json").read_text())["history"]
    assert len(hist["loss"]) == 1 and "val_perplexity" in hist
    model, vocab, meta = load_char_lstm(tmp_path / "model.safetensors")
    assert vocab == CharVocab.from_text(load_text()) and meta["vocab"] == vocab.chars
    assert model.config["hidden_size"] == 32 and meta["val_perplexity"] == pytest.approx(
        metrics["val_perplexity"])
    assert len(sample(model, vocab, "Alice", 20, 0.8)) == 20
    again = evaluate_char_lstm(tmp_path / "model.safetensors")
    assert again["val_perplexity"] == pytest.approx(metrics["val_perplexity"], rel=1e-6)
    assert again["unigram_perplexity"] == pytest.approx(metrics["unigram_perplexity"])


def test_cli_rejects_unequal_lstm_widths(tmp_path, capsys):
    rc = main(["train", "--dataset", "text", "--hidden", "32,16", "--out", str(tmp_path)])
    assert rc == 2
    assert "must be equal" in capsys.readouterr().err
