r"""A character-level LSTM language model on a book shipped with retrograd.

Everything a worked example of sequence modelling needs, offline:

* :func:`load_text` — *Alice's Adventures in Wonderland* by Lewis Carroll (1865; Project
  Gutenberg eBook #11, public domain), about 144,000 characters, bundled gzip-compressed
  (attribution in ``data/_bundled/alice_in_wonderland.md`` and :data:`TEXT_INFO`);
* :class:`CharVocab` — characters to integer ids and back;
* :class:`CharLSTM` — Embedding → LSTM → Linear, predicting the next character;
* :func:`batchify` and :func:`bptt_windows` — truncated backpropagation through time:
  the text is cut into ``batch_size`` contiguous streams (one per batch row) and walked
  in windows of ``seq_len`` steps; the LSTM state is carried from one window to the next
  (so the model sees the whole stream) but *detached* (so the gradient stops at the
  window's start);
* :func:`evaluate_perplexity`, :func:`unigram_perplexity` — the yardstick: perplexity
  :math:`e^{\text{cross-entropy}}` is the effective number of characters the model
  hesitates between; the unigram baseline knows only character frequencies;
* :func:`sample` — generate text, with a temperature;
* :func:`load_char_lstm`, :func:`evaluate_char_lstm` — a saved model back, and its
  validation perplexity;
* :func:`train_char_lstm` — what ``retrograd train --dataset text --model char-lstm`` runs.

Example::

    >>> text = load_text()
    >>> vocab = CharVocab.from_text(text)
    >>> model = CharLSTM(len(vocab), hidden_size=256)
    >>> streams = batchify(vocab.encode(text), 32)        # (32, 4505)
    >>> state = None
    >>> for x, y in bptt_windows(streams, 100):          # (32, 100) inputs and targets
    ...     logits, state = model(x, state)
    ...     state = tuple(s.detach() for s in state)     # truncated BPTT
    ...     ...
    >>> print(sample(model, vocab, "Alice ", 200, temperature=0.8))
"""

from __future__ import annotations

import functools
import gzip
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from . import backend, nn
from .nn import functional as F

__all__ = ["TEXT_INFO", "load_text", "CharVocab", "CharLSTM", "batchify", "bptt_windows",
           "evaluate_perplexity", "unigram_perplexity", "sample", "load_char_lstm",
           "evaluate_char_lstm", "train_char_lstm"]

_FILE = Path(__file__).with_name("data") / "_bundled" / "alice_in_wonderland.txt.gz"

#: Where the bundled text comes from (also in ``data/_bundled/alice_in_wonderland.md``).
TEXT_INFO = {
    "name": "alice_in_wonderland",
    "title": "Alice's Adventures in Wonderland",
    "author": "Lewis Carroll (Charles Lutwidge Dodgson)",
    "published": 1865,
    "source": "Project Gutenberg eBook #11, https://www.gutenberg.org/ebooks/11 "
              "(THE MILLENNIUM FULCRUM EDITION 3.0, plain ASCII text)",
    "licence": "public domain (published in 1865, the author died in 1898: public domain in "
               "the United States and wherever copyright lasts the author's life plus 100 "
               "years or less); the Project Gutenberg header and footer are removed, as "
               "Project Gutenberg's licence allows for public-domain works",
    "characters": 144190,
    "sha256": "936743258587c45e6ef93920d0da51bf3a049fb6877bc107bf9b7b5e447af11b",
}


@functools.lru_cache(maxsize=1)
def load_text():
    """The bundled book, *Alice's Adventures in Wonderland* (Lewis Carroll, public domain).

    Returns:
        str: the text of the book (144,190 ASCII characters, ``\\n`` line ends), without
        the Project Gutenberg header and footer. :data:`TEXT_INFO` says where it comes from.
    """
    try:
        with gzip.open(_FILE, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as e:
        raise RuntimeError(f"load_text: the bundled file {_FILE} is missing or damaged ({e}); "
                           "reinstall retrograd to restore it") from e
    return data.decode("utf-8")


# ---------------------------------------------------------------------------- vocabulary

class CharVocab:
    """The characters of a text, each with an integer id (ids follow sorted order).

    Args:
        chars (str or iterable of str): the characters (duplicates are dropped).

    Example::

        >>> vocab = CharVocab.from_text("hello")
        >>> vocab.chars, vocab.encode("hole").tolist()
        ('ehlo', [1, 3, 2, 0])
        >>> vocab.decode([1, 0, 2, 2, 3])
        'hello'
    """

    def __init__(self, chars):
        chars = "".join(sorted(set(chars)))
        if not chars:
            raise ValueError("CharVocab: no characters given")
        if any(len(c) != 1 for c in chars):
            raise ValueError("CharVocab: every item must be a single character")
        self.chars = chars
        self._codes = _codepoints(chars)
        self._table = np.full(int(self._codes.max()) + 1, -1, dtype=np.int64)
        self._table[self._codes] = np.arange(len(chars))

    @classmethod
    def from_text(cls, text):
        """The vocabulary of every character that occurs in ``text``."""
        if not isinstance(text, str):
            raise TypeError(f"CharVocab.from_text: expected a str, got {type(text).__name__}")
        return cls(text)

    def __len__(self):
        return len(self.chars)

    def __contains__(self, ch):
        return isinstance(ch, str) and len(ch) == 1 and ch in self.chars

    def __eq__(self, other):
        return isinstance(other, CharVocab) and other.chars == self.chars

    def __hash__(self):
        return hash(self.chars)

    @property
    def stoi(self):
        """``{character: id}``."""
        return {c: i for i, c in enumerate(self.chars)}

    @property
    def itos(self):
        """``[character of id 0, character of id 1, ...]``."""
        return list(self.chars)

    def encode(self, text):
        """The ids of the characters of ``text``: an int64 array of ``len(text)``.

        Raises:
            ValueError: naming the characters that are not in the vocabulary.
        """
        if not isinstance(text, str):
            raise TypeError(f"CharVocab.encode: expected a str, got {type(text).__name__}")
        cp = _codepoints(text)
        ids = np.full(cp.shape, -1, dtype=np.int64)
        ok = cp < len(self._table)
        ids[ok] = self._table[cp[ok]]
        if (ids < 0).any():
            bad = sorted({chr(c) for c in cp[ids < 0][:1000].tolist()})
            raise ValueError(f"CharVocab.encode: {len(bad)} character(s) not in the vocabulary "
                             f"of {len(self)}: {''.join(bad)!r}; build the vocabulary from a text "
                             "that contains them, or remove them")
        return ids

    def decode(self, ids):
        """The text of a sequence of ids (a list, an array or a 1-D Tensor)."""
        a = np.asarray(ids._data if hasattr(ids, "_data") else ids)
        if a.size == 0:
            return ""
        if a.ndim != 1 or a.dtype.kind not in "iu":
            raise ValueError(f"CharVocab.decode: expected a 1-D sequence of integer ids, got "
                             f"shape {a.shape}, dtype {a.dtype}")
        if a.min() < 0 or a.max() >= len(self):
            raise ValueError(f"CharVocab.decode: ids must be in [0, {len(self) - 1}], got "
                             f"values in [{a.min()}, {a.max()}]")
        return self._codes[a].astype("<u4").tobytes().decode("utf-32-le")

    def to_string(self):
        """The vocabulary as one string (for a model file's metadata); see :meth:`from_string`."""
        return self.chars

    @classmethod
    def from_string(cls, chars):
        """Rebuild from :meth:`to_string`'s output."""
        return cls(chars)

    def __repr__(self):
        shown = self.chars if len(self.chars) <= 40 else self.chars[:37] + "..."
        return f"CharVocab({len(self)} chars: {shown!r})"


def _codepoints(text):
    """The Unicode code points of ``text`` as an int64 array (no Python loop over characters)."""
    return np.frombuffer(text.encode("utf-32-le"), dtype="<u4").astype(np.int64)


# ---------------------------------------------------------------------------- the model

class CharLSTM(nn.Module):
    r"""A character-level language model: Embedding → LSTM → Linear over the vocabulary.

    Args:
        vocab_size (int): number of characters.
        embedding_dim (int): size of each character's embedding. Default: 64.
        hidden_size (int): LSTM hidden size. Default: 256.
        num_layers (int): stacked LSTM layers. Default: 1.
        dropout (float): dropout on each LSTM layer's output (between layers and before
            the decoder). Default: 0.

    Shape:
        - input: ``(N, T)`` integer character ids (or ``(T,)`` for one sequence)
        - state: ``(h, c)``, each ``(num_layers, N, hidden_size)``, or None for zeros
        - output: ``(logits, state)``, logits ``(N, T, vocab_size)`` — the scores of the
          next character after each input character — and the final state.

    ``config`` holds the arguments (plus ``'name': 'char-lstm'``), so
    ``retrograd.models.build(model.config)`` rebuilds the model.

    Example::

        >>> model = CharLSTM(65, hidden_size=128)
        >>> logits, (h, c) = model(retrograd.randint(0, 65, (8, 100)))
        >>> logits.shape, h.shape
        (retrograd.Size([8, 100, 65]), retrograd.Size([1, 8, 128]))
    """

    def __init__(self, vocab_size, embedding_dim=64, hidden_size=256, num_layers=1, dropout=0.0):
        super().__init__()
        for arg, v in (("vocab_size", vocab_size), ("embedding_dim", embedding_dim),
                       ("hidden_size", hidden_size), ("num_layers", num_layers)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
                raise ValueError(f"CharLSTM: {arg} must be a positive integer, got {v!r}")
        if not 0 <= dropout < 1:
            raise ValueError(f"CharLSTM: dropout must be in [0, 1), got {dropout!r}")
        vocab_size, embedding_dim = int(vocab_size), int(embedding_dim)
        hidden_size, num_layers, dropout = int(hidden_size), int(num_layers), float(dropout)
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden_size, num_layers, batch_first=True,
                            dropout=dropout if num_layers > 1 else 0.0)
        self.dropout = nn.Dropout(dropout)
        self.decoder = nn.Linear(hidden_size, vocab_size)
        self.config = {"name": "char-lstm", "vocab_size": vocab_size,
                       "embedding_dim": embedding_dim, "hidden_size": hidden_size,
                       "num_layers": num_layers, "dropout": dropout}

    def forward(self, input, state=None):
        if input.dtype.kind not in "iu":
            raise TypeError(f"CharLSTM: input must hold integer character ids, got dtype "
                            f"{input.dtype}; encode text with CharVocab.encode")
        if input.ndim not in (1, 2):
            raise ValueError(f"CharLSTM: input must be (N, T) or (T,) character ids, got shape "
                             f"{tuple(input.shape)}")
        out, state = self.lstm(self.embedding(input), state)
        return self.decoder(self.dropout(out)), state

    def extra_repr(self):
        c = self.config
        return (f"vocab_size={c['vocab_size']}, embedding_dim={c['embedding_dim']}, "
                f"hidden_size={c['hidden_size']}, num_layers={c['num_layers']}")


def _detach(state):
    return None if state is None else tuple(s.detach() for s in state)


# ---------------------------------------------------------------------------- batching

def batchify(ids, batch_size):
    """Cut a sequence of ids into ``batch_size`` contiguous streams, one per batch row.

    Row ``b`` is ``ids[b*L:(b+1)*L]`` with ``L = len(ids) // batch_size``; the last
    ``len(ids) % batch_size`` ids are dropped. Walking the columns left to right then
    reads ``batch_size`` parts of the text side by side, each in order, which is what
    lets a recurrent state be carried from one window to the next.

    Args:
        ids: 1-D sequence of integer ids (array, list or Tensor).
        batch_size (int): number of streams.

    Returns:
        np.ndarray: int64 of shape ``(batch_size, L)``.
    """
    a = np.asarray(ids._data if hasattr(ids, "_data") else ids)
    if a.ndim != 1 or (a.size and a.dtype.kind not in "iu"):
        raise ValueError(f"batchify: ids must be a 1-D sequence of integers, got shape {a.shape}, "
                         f"dtype {a.dtype}")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batchify: batch_size must be a positive integer, got {batch_size!r}")
    length = len(a) // batch_size
    if length < 2:
        raise ValueError(f"batchify: {len(a)} ids are too few for {batch_size} streams of at "
                         "least 2 (an input and its next-character target); use a smaller "
                         "batch size or a longer text")
    return a[:length * batch_size].astype(np.int64).reshape(batch_size, length)


def bptt_windows(streams, seq_len):
    """The (input, target) windows of truncated BPTT over the streams of :func:`batchify`.

    Window ``k`` holds columns ``k*seq_len ... k*seq_len + seq_len - 1`` as input and the
    same columns shifted by one (the next characters) as target. The last window is
    shorter when the columns do not divide evenly. Feed the windows in order and carry
    the recurrent state across them, detached.

    Args:
        streams: ``(N, L)`` int array from :func:`batchify`.
        seq_len (int): steps per window (the truncation length of BPTT).

    Returns:
        list of ``(x, y)`` int64 Tensors of shape ``(N, seq_len)`` (the last maybe shorter).
    """
    from .creation import from_numpy

    s = np.asarray(streams)
    if s.ndim != 2 or s.shape[1] < 2:
        raise ValueError(f"bptt_windows: streams must be (N, L) with L >= 2, got shape {s.shape}")
    if not isinstance(seq_len, (int, np.integer)) or seq_len < 1:
        raise ValueError(f"bptt_windows: seq_len must be a positive integer, got {seq_len!r}")
    s = s.astype(np.int64, copy=False)
    last = s.shape[1] - 1   # the last column is only ever a target
    return [(from_numpy(np.ascontiguousarray(s[:, i:min(i + seq_len, last)])),
             from_numpy(np.ascontiguousarray(s[:, i + 1:min(i + seq_len, last) + 1])))
            for i in range(0, last, seq_len)]


# ---------------------------------------------------------------------------- evaluation

def evaluate_perplexity(model, ids, batch_size=32, seq_len=100):
    """Cross-entropy (nats per character) and perplexity of ``model`` on a sequence of ids.

    The ids are cut into ``batch_size`` streams (:func:`batchify`) and read in windows of
    ``seq_len`` with the state carried across, so every character but the first of each
    stream is predicted with the whole stream before it in context.

    Returns:
        (float, float): the mean loss and ``exp(loss)``.
    """
    from .autograd import no_grad

    streams = batchify(ids, min(batch_size, max(1, len(np.asarray(ids)) // 2)))
    was_training = model.training
    model.eval()
    total, count, state = 0.0, 0, None
    try:
        with no_grad():
            for x, y in bptt_windows(streams, seq_len):
                logits, state = model(x, state)
                loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1),
                                       reduction="sum")
                total += float(loss.item())
                count += y.numel()
    finally:
        model.train(was_training)
    mean = total / count
    return mean, math.exp(min(mean, 700.0))


def unigram_perplexity(train_ids, eval_ids, vocab_size):
    """Perplexity of the unigram baseline: each character predicted by its frequency in
    ``train_ids`` (add-one smoothed), whatever came before it.

    A language model must do better than this to have learned anything beyond the
    letter frequencies.
    """
    counts = np.bincount(np.asarray(train_ids), minlength=vocab_size).astype(np.float64) + 1.0
    logp = np.log(counts / counts.sum())
    return math.exp(-float(logp[np.asarray(eval_ids)].mean()))


# ---------------------------------------------------------------------------- sampling

def sample(model, vocab, prime="", length=200, temperature=0.8, generator=None):
    r"""Generate ``length`` characters from ``model``, one at a time, after ``prime``.

    At each step the next character is drawn from
    :math:`\operatorname{softmax}(\text{logits} / T)`: a temperature :math:`T < 1`
    sharpens the distribution (safer, more repetitive text), :math:`T > 1` flattens it
    (bolder, more errors), and :math:`T = 0` always takes the most likely character.

    Args:
        model (CharLSTM): the language model (run in eval mode, without gradients).
        vocab (CharVocab): its vocabulary.
        prime (str): text to start from (default: a newline, not included in the output).
        length (int): number of characters to generate.
        temperature (float): sampling temperature, >= 0 (default 0.8).
        generator (Generator, optional): source of randomness (else the global one), so
            a seeded generator gives the same text every time.

    Returns:
        str: the ``length`` generated characters (without the prime).
    """
    from .autograd import no_grad
    from .creation import from_numpy

    if not isinstance(temperature, (int, float, np.floating)) or not temperature >= 0 \
            or not math.isfinite(temperature):
        raise ValueError(f"sample: temperature must be a finite number >= 0, got {temperature!r}")
    if not isinstance(length, (int, np.integer)) or length < 0:
        raise ValueError(f"sample: length must be a non-negative integer, got {length!r}")
    if not prime:
        prime = "\n" if "\n" in vocab else vocab.chars[0]
    ids = vocab.encode(prime)
    rng = backend.rng(generator)
    was_training = model.training
    model.eval()
    out = np.empty(int(length), dtype=np.int64)
    try:
        with no_grad():
            logits, state = model(from_numpy(ids[None, :]))
            last = logits._data[0, -1].astype(np.float64)
            for i in range(int(length)):
                if temperature == 0:
                    nxt = int(np.argmax(last))
                else:
                    z = last / temperature
                    p = np.exp(z - z.max())
                    cdf = np.cumsum(p)
                    nxt = min(int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right")),
                              len(p) - 1)
                out[i] = nxt
                logits, state = model(from_numpy(out[i:i + 1][None, :]), state)
                last = logits._data[0, -1].astype(np.float64)
    finally:
        model.train(was_training)
    return vocab.decode(out)


# ---------------------------------------------------------------------------- files

def load_char_lstm(path):
    """Load a model written by ``retrograd train --dataset text --model char-lstm``.

    Returns:
        (CharLSTM, CharVocab, dict): the model (in eval mode), its vocabulary and the
        metadata stored with it (validation perplexity, settings...).
    """
    from . import io, models

    blob = io.load(str(path))
    if not isinstance(blob, dict) or "state_dict" not in blob or "vocab" not in blob.get("meta",
                                                                                         {}):
        raise ValueError(f"load_char_lstm: {path} is not a char-lstm model file (it should hold "
                         "a state_dict and meta with the vocabulary)")
    meta = blob["meta"]
    model = models.build(meta["config"])
    model.load_state_dict(blob["state_dict"])
    model.eval()
    return model, CharVocab.from_string(meta["vocab"]), meta


def evaluate_char_lstm(path, batch_size=None, seq_len=None):
    """Validation loss and perplexity of a saved char-lstm model on the bundled text.

    Uses the validation split, batch size and window length stored with the model, so
    the result reproduces the number printed at the end of training.

    Returns:
        dict: ``val_loss``, ``val_perplexity``, ``unigram_perplexity``.
    """
    model, vocab, meta = load_char_lstm(path)
    ids = vocab.encode(load_text())
    split = int(len(ids) * (1 - float(meta.get("val_fraction", 0.1))))
    loss, ppl = evaluate_perplexity(model, ids[split:], batch_size or meta.get("batch_size", 32),
                                    seq_len or meta.get("seq_len", 100))
    return {"val_loss": loss, "val_perplexity": ppl,
            "unigram_perplexity": unigram_perplexity(ids[:split], ids[split:], len(vocab))}


# ---------------------------------------------------------------------------- training

def _settings(args):
    """The CLI's options with this command's defaults filled in (args may be partial)."""
    d = {"epochs": 3, "batch_size": 32, "lr": 3e-3, "hidden": [256], "optimizer": "adam",
         "seed": 0, "out": None, "resume": None, "quiet": False, "no_plots": False,
         "temperature": 0.8, "seq_len": 100, "clip_grad_norm": None, "schedule": "none",
         "weight_decay": 0.0, "momentum": 0.9, "patience": None, "dropout": 0.0,
         "max_batches": None, "sample_length": 300, "prime": "Alice ", "embedding_dim": 64,
         "val_fraction": 0.1}
    s = {k: (getattr(args, k, None) if getattr(args, k, None) is not None else v)
         for k, v in d.items()}
    import argparse

    return argparse.Namespace(**s)


def _indent(text, prefix="    "):
    return "\n".join(prefix + line for line in text.split("\n"))


def train_char_lstm(args):
    """Train a :class:`CharLSTM` on the bundled book: ``retrograd train --dataset text``.

    Prints the per-epoch training loss, validation loss and perplexity and a sample of
    generated text; writes ``model.safetensors`` (weights, config, vocabulary and
    results in its metadata), ``history.json``, ``samples.txt``, ``checkpoint.safetensors``
    (to ``--resume`` from) and ``learning_curves.png`` into ``args.out`` (default
    ``runs/text-char-lstm``).

    Args:
        args: the parsed command line (``argparse.Namespace``). Used: ``epochs``,
            ``batch_size``, ``lr``, ``hidden`` (one width per LSTM layer, all equal),
            ``optimizer``, ``momentum``, ``weight_decay``, ``schedule``,
            ``clip_grad_norm`` (default 5.0 here), ``dropout``, ``patience``, ``seed``,
            ``seq_len`` (the BPTT truncation), ``temperature``, ``out``, ``resume``,
            ``quiet``, ``no_plots``; optional extras read when present: ``max_batches``
            (per epoch), ``sample_length`` (300), ``prime`` (``'Alice '``),
            ``embedding_dim`` (64), ``val_fraction`` (0.1).

    Returns:
        int: 0 (the process exit status).
    """
    import retrograd as rg

    from . import models, train
    from .cli import CLIError, build_optimizer, build_scheduler
    from .io import load_checkpoint, save_checkpoint

    a = _settings(args)
    dataset = getattr(args, "dataset", None)
    if dataset not in (None, "text"):
        raise CLIError(f"--model char-lstm trains on the bundled text; it cannot use --dataset "
                       f"{dataset} (use --dataset text)")
    hidden = list(a.hidden)
    if len(set(hidden)) != 1:
        raise CLIError(f"--hidden for char-lstm gives one width per LSTM layer and they must be "
                       f"equal (e.g. 256 or 256,256), got {','.join(map(str, hidden))}")
    if not 0 < a.val_fraction < 1:
        raise CLIError(f"val_fraction must be in (0, 1), got {a.val_fraction}")
    out = Path(a.out or "runs/text-char-lstm")
    out.mkdir(parents=True, exist_ok=True)
    clip = a.clip_grad_norm if a.clip_grad_norm is not None else 5.0
    t_start = time.perf_counter()

    rg.manual_seed(a.seed)
    text = load_text()
    vocab = CharVocab.from_text(text)
    ids = vocab.encode(text)
    split = int(len(ids) * (1 - a.val_fraction))
    train_ids, val_ids = ids[:split], ids[split:]
    if len(train_ids) // a.batch_size < a.seq_len + 1:
        raise CLIError(f"--batch-size {a.batch_size} with --seq-len {a.seq_len} needs more text "
                       f"than the {len(train_ids):,} training characters; use smaller values")
    baseline = unigram_perplexity(train_ids, val_ids, len(vocab))

    model = CharLSTM(len(vocab), a.embedding_dim, hidden[0], len(hidden), a.dropout)
    optimizer = build_optimizer(a, model.parameters())
    n_windows = math.ceil((len(train_ids) // a.batch_size - 1) / a.seq_len)
    steps_per_epoch = min(n_windows, a.max_batches) if a.max_batches else n_windows
    scheduler, sched_step = build_scheduler(a, optimizer, steps_per_epoch)
    gen = rg.Generator().manual_seed(a.seed)
    history = train.History()
    start_epoch = 0
    best = (math.inf, None)
    if a.resume:
        try:
            ckpt = load_checkpoint(a.resume, model, optimizer, scheduler, generator=gen)
        except (FileNotFoundError, RuntimeError, ValueError, KeyError) as e:
            raise CLIError(f"cannot resume from {a.resume}: {e}") from None
        if ckpt.get("vocab") != vocab.chars:
            raise CLIError(f"{a.resume} was trained on another vocabulary")
        start_epoch = int(ckpt.get("epoch", 0))
        history = train.History.from_dict(ckpt.get("history", {}))
        best = (float(ckpt.get("best_val_loss", math.inf)), None)

    say = (lambda *s: None) if a.quiet else print
    n_params = sum(p.numel() for p in model.parameters())
    say(f"retrograd train: text — {TEXT_INFO['title']} by Lewis Carroll ({len(text):,} "
        f"characters, {len(vocab)} distinct; {len(train_ids):,} train / {len(val_ids):,} val)")
    say(f"model char-lstm: Embedding({len(vocab)}, {a.embedding_dim}) -> LSTM({hidden[0]}"
        f"{f', {len(hidden)} layers' if len(hidden) > 1 else ''}) -> Linear({len(vocab)}), "
        f"{n_params:,} parameters; {a.optimizer} lr={a.lr}, {a.epochs} epochs of "
        f"{steps_per_epoch} batches ({a.batch_size} streams x {a.seq_len} steps, truncated "
        f"BPTT), clip {clip:g}")
    say(f"unigram baseline: validation perplexity {baseline:.2f}")

    patience_left = a.patience
    sample_text = ""
    val_loss = val_ppl = math.nan
    epoch = start_epoch
    for epoch in range(start_epoch, a.epochs):
        t0 = time.perf_counter()
        model.train()
        # a random shift per epoch: the windows start at different characters each time
        offset = int(backend.rng(gen).integers(0, a.seq_len))
        windows = bptt_windows(batchify(train_ids[offset:], a.batch_size), a.seq_len)
        if a.max_batches:
            windows = windows[:a.max_batches]
        total, count, state = 0.0, 0, None
        for x, y in windows:
            logits, state = model(x, state)
            state = _detach(state)
            loss = F.cross_entropy(logits.reshape(-1, len(vocab)), y.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            if scheduler is not None and sched_step == "batch":
                scheduler.step()
            total += float(loss.item()) * y.numel()
            count += y.numel()
        train_loss = total / count
        val_loss, val_ppl = evaluate_perplexity(model, val_ids, a.batch_size, a.seq_len)
        lr = optimizer.param_groups[0]["lr"]
        if scheduler is not None and sched_step == "epoch":
            if type(scheduler).__name__ == "ReduceLROnPlateau":
                scheduler.step(val_loss)
            else:
                scheduler.step()
        history.record(epoch, {"loss": train_loss, "perplexity": math.exp(min(train_loss, 700)),
                               "val_loss": val_loss, "val_perplexity": val_ppl, "lr": lr})
        sample_text = sample(model, vocab, a.prime, a.sample_length, a.temperature, gen)
        say(f"epoch {epoch + 1}/{a.epochs}  train loss {train_loss:.4f}  val loss "
            f"{val_loss:.4f}  val perplexity {val_ppl:.2f}  ({time.perf_counter() - t0:.1f}s)")
        say(f"  sample (temperature {a.temperature:g}):\n"
            + _indent(a.prime + sample_text[:a.sample_length]))
        if val_loss < best[0]:
            best = (val_loss, {k: v.detach().clone() for k, v in model.state_dict().items()})
            patience_left = a.patience
        elif a.patience:
            patience_left -= 1
        save_checkpoint(str(out / "checkpoint.safetensors"), model, optimizer, scheduler,
                        epoch=epoch + 1, generator=gen, history=history.to_dict(),
                        vocab=vocab.chars, best_val_loss=best[0])
        if a.patience and patience_left <= 0:
            say(f"early stopping: no better validation loss for {a.patience} epochs")
            break
    if a.patience and best[1] is not None:
        model.load_state_dict(best[1])
        val_loss, val_ppl = evaluate_perplexity(model, val_ids, a.batch_size, a.seq_len)

    elapsed = time.perf_counter() - t_start
    epochs_run = len(history.epoch)
    meta = {"dataset": "text", "text": TEXT_INFO["name"], "config": models.config_of(model),
            "vocab": vocab.to_string(), "val_loss": float(val_loss),
            "val_perplexity": float(val_ppl), "unigram_perplexity": float(baseline),
            "epochs_run": epochs_run, "seed": a.seed, "seq_len": a.seq_len,
            "batch_size": a.batch_size, "val_fraction": a.val_fraction}
    rg.save({"state_dict": model.state_dict(), "meta": meta}, str(out / "model.safetensors"))
    history.to_json(str(out / "history.json"))
    (out / "samples.txt").write_text(a.prime + sample_text + "\n")
    (out / "metrics.json").write_text(json.dumps(
        {"val_loss": float(val_loss), "val_perplexity": float(val_ppl),
         "unigram_perplexity": float(baseline), "epochs_run": epochs_run,
         "seconds": round(elapsed, 2)}, indent=2))
    plots = ""
    if not a.no_plots and epochs_run:
        try:
            train.plot_history(history, str(out / "learning_curves.png"),
                               metrics=["loss", "perplexity"],
                               title="char-lstm on Alice's Adventures in Wonderland")
            plots = ", learning_curves.png"
        except ImportError as e:
            print(f"(plots skipped: {e})", file=sys.stderr)
    print(f"validation perplexity: {val_ppl:.2f} (unigram baseline {baseline:.2f}); "
          f"validation loss {val_loss:.4f} nats/char  ({elapsed:.1f}s)")
    print(f"wrote {out}/: model.safetensors, history.json, samples.txt, metrics.json, "
          f"checkpoint.safetensors{plots}")
    return 0
