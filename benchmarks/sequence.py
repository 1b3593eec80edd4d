"""Sequence workloads for benchmarks.compare (issue 9's targets).

lstm_lm / gru_lm / rnn_lm: a language-model training step — vocabulary 10,000,
embedding 128, hidden 256, one layer, 35 steps, batch 32, Adam.
transformer_enc: an encoder training step — d_model 128, 4 heads, 2 layers,
feed-forward 512, sequence 64, batch 32 (batch_first), classification head, Adam.
"""

from __future__ import annotations

import numpy as np

VOCAB, EMB, HIDDEN, STEPS, BATCH = 10_000, 128, 256, 35, 32


def _lm(lib, kind):
    nn = lib.nn
    rnn_cls = {"lstm_lm": nn.LSTM, "gru_lm": nn.GRU, "rnn_lm": nn.RNN}[kind]

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(VOCAB, EMB)
            self.rnn = rnn_cls(EMB, HIDDEN)
            self.out = nn.Linear(HIDDEN, VOCAB)

        def forward(self, x):
            h, _ = self.rnn(self.emb(x))
            return self.out(h)

    return LM()


def _encoder(lib):
    nn = lib.nn

    class Enc(nn.Module):
        def __init__(self):
            super().__init__()
            layer = nn.TransformerEncoderLayer(128, 4, dim_feedforward=512, batch_first=True)
            self.enc = nn.TransformerEncoder(layer, 2)
            self.head = nn.Linear(128, 10)

        def forward(self, x):
            return self.head(self.enc(x).mean(dim=1))

    return Enc()


def build(workload, lib):
    import torch

    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    if workload == "transformer_enc":
        ref = _encoder(torch)
        model = ref if lib is torch else _encoder(lib)
        x = lib.tensor(rng.standard_normal((BATCH, 64, 128), dtype=np.float32))
        y = lib.tensor(rng.integers(0, 10, BATCH))
    else:
        ref = _lm(torch, workload)
        model = ref if lib is torch else _lm(lib, workload)
        x = lib.tensor(rng.integers(0, VOCAB, (STEPS, BATCH)))
        y = lib.tensor(rng.integers(0, VOCAB, (STEPS * BATCH,)))
    if lib is not torch:
        model.load_state_dict({k: v.detach().numpy().copy() for k, v in ref.state_dict().items()})
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = lib.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        out = model(x)
        loss = loss_fn(out.reshape(-1, out.shape[-1]), y)
        loss.backward()
        opt.step()

    return step
