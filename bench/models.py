"""Training steps of the models users train (issue 14): a nanoGPT-style transformer, a char LSTM, a
LeNet-style CNN and makemore's MLP. Each is written once against the torch API (the GPT as
nanoGPT's model.py writes it) and built for ndgrad and torch alike; the fifth model of the issue,
the notebook's MLP 20-20-20-1, is the existing ``mlp_tiny`` workload.

Sizes are the issue's; every step is forward, cross-entropy, backward and an AdamW update.
"""

from __future__ import annotations

import math

import numpy as np

from ._common import Workload, _rng, _seed, _t, need


def _adamw(lib, params, lr=1e-3, **kw):
    return need(lib, "optim.AdamW")(params, lr=lr, **kw)


def _step(opt, loss_fn):
    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn()
        loss.backward()
        opt.step()
    return step


# --- nanoGPT (karpathy/nanoGPT model.py, dropout 0, bias on, weights tied) ------------------------
def _gpt_classes(lib):
    nn, F = lib.nn, lib.nn.functional

    class LayerNorm(nn.Module):
        def __init__(self, ndim, bias):
            super().__init__()
            self.weight = nn.Parameter(lib.ones(ndim))
            self.bias = nn.Parameter(lib.zeros(ndim)) if bias else None

        def forward(self, input):
            return F.layer_norm(input, self.weight.shape, self.weight, self.bias, 1e-5)

    class CausalSelfAttention(nn.Module):
        def __init__(self, n_embd, n_head, dropout, bias):
            super().__init__()
            self.c_attn = nn.Linear(n_embd, 3 * n_embd, bias=bias)
            self.c_proj = nn.Linear(n_embd, n_embd, bias=bias)
            self.attn_dropout, self.resid_dropout = nn.Dropout(dropout), nn.Dropout(dropout)
            self.n_head, self.n_embd, self.dropout = n_head, n_embd, dropout
            self.flash = hasattr(F, "scaled_dot_product_attention")

        def forward(self, x):
            B, T, C = x.size()
            q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
            k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            if self.flash:
                y = F.scaled_dot_product_attention(
                    q, k, v, attn_mask=None, dropout_p=self.dropout if self.training else 0,
                    is_causal=True)
            else:  # nanoGPT's manual path
                att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
                mask = lib.tril(lib.ones(T, T)).view(1, 1, T, T)
                att = att.masked_fill(mask == 0, float("-inf"))
                att = self.attn_dropout(F.softmax(att, dim=-1))
                y = att @ v
            y = y.transpose(1, 2).contiguous().view(B, T, C)
            return self.resid_dropout(self.c_proj(y))

    class MLP(nn.Module):
        def __init__(self, n_embd, dropout, bias):
            super().__init__()
            self.c_fc = nn.Linear(n_embd, 4 * n_embd, bias=bias)
            self.gelu = nn.GELU()
            self.c_proj = nn.Linear(4 * n_embd, n_embd, bias=bias)
            self.dropout = nn.Dropout(dropout)

        def forward(self, x):
            return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))

    class Block(nn.Module):
        def __init__(self, n_embd, n_head, dropout, bias):
            super().__init__()
            self.ln_1 = LayerNorm(n_embd, bias)
            self.attn = CausalSelfAttention(n_embd, n_head, dropout, bias)
            self.ln_2 = LayerNorm(n_embd, bias)
            self.mlp = MLP(n_embd, dropout, bias)

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class GPT(nn.Module):
        def __init__(self, vocab_size, block_size, n_layer, n_head, n_embd, dropout=0.0,
                     bias=True):
            super().__init__()
            self.transformer = nn.ModuleDict(dict(
                wte=nn.Embedding(vocab_size, n_embd), wpe=nn.Embedding(block_size, n_embd),
                drop=nn.Dropout(dropout),
                h=nn.ModuleList([Block(n_embd, n_head, dropout, bias) for _ in range(n_layer)]),
                ln_f=LayerNorm(n_embd, bias)))
            self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
            self.transformer.wte.weight = self.lm_head.weight  # weight tying
            self.apply(self._init_weights)
            for pn, p in self.named_parameters():
                if pn.endswith("c_proj.weight"):
                    nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * n_layer))

        def _init_weights(self, module):
            if isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, mean=0.0, std=0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Embedding):
                nn.init.normal_(module.weight, mean=0.0, std=0.02)

        def forward(self, idx, targets):
            b, t = idx.size()
            pos = lib.arange(0, t, dtype=lib.long)
            x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
            for block in self.transformer.h:
                x = block(x)
            logits = self.lm_head(self.transformer.ln_f(x))
            return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1),
                                   ignore_index=-1)

        def configure_optimizers(self, weight_decay, learning_rate, betas):
            params = [p for p in self.parameters() if p.requires_grad]
            groups = [{"params": [p for p in params if p.dim() >= 2],
                       "weight_decay": weight_decay},
                      {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
            return _adamw(lib, groups, lr=learning_rate, betas=betas)

    return GPT


def gpt(lib, quick):
    """nanoGPT: 2 blocks, 4 heads, n_embd 128, block 64, batch 8, vocab 65, AdamW."""
    _seed(lib)
    vocab, block, batch = 65, (16 if quick else 64), (2 if quick else 8)
    model = _gpt_classes(lib)(vocab, block, n_layer=2, n_head=4, n_embd=128)
    opt = model.configure_optimizers(0.1, 1e-3, (0.9, 0.95))
    rng = _rng()
    data = rng.integers(0, vocab, (batch, block + 1))
    x, y = _t(lib, data[:, :-1]), _t(lib, data[:, 1:])
    return _step(opt, lambda: model(x, y))


# --- char LSTM ------------------------------------------------------------------------------------
def char_lstm(lib, quick):
    """Embedding 65 -> 32, LSTM 32 -> 128 (batch first), linear to 65; seq 32, batch 16."""
    _seed(lib)
    nn, F = lib.nn, lib.nn.functional
    vocab, seq, batch = 65, (8 if quick else 32), (4 if quick else 16)

    class CharLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, 32)
            self.lstm = need(nn, "LSTM")(32, 128, batch_first=True)
            self.head = nn.Linear(128, vocab)

        def forward(self, idx):
            out, _ = self.lstm(self.embed(idx))
            return self.head(out)

    model = CharLSTM()
    opt = _adamw(lib, model.parameters(), lr=2e-3)
    data = _rng().integers(0, vocab, (batch, seq + 1))
    x, y = _t(lib, data[:, :-1]), _t(lib, data[:, 1:])
    return _step(opt, lambda: F.cross_entropy(model(x).reshape(-1, vocab), y.reshape(-1)))


# --- LeNet ----------------------------------------------------------------------------------------
def lenet(lib, quick):
    """LeNet-5 style: conv5 (pad 2) 6, pool, conv5 16, pool, 400-120-84-10; 28x28, batch 32."""
    _seed(lib)
    nn, F = lib.nn, lib.nn.functional
    batch = 4 if quick else 32
    conv = need(nn, "Conv2d")
    model = nn.Sequential(conv(1, 6, 5, padding=2), nn.ReLU(), need(nn, "MaxPool2d")(2),
                          conv(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                          nn.Linear(84, 10))
    opt = _adamw(lib, model.parameters())
    rng = _rng()
    x = _t(lib, rng.standard_normal((batch, 1, 28, 28), dtype=np.float32))
    y = _t(lib, rng.integers(0, 10, batch))
    return _step(opt, lambda: F.cross_entropy(model(x), y))


# --- makemore MLP (Bengio et al. 2003, as in makemore part 2) -------------------------------------
def makemore_mlp(lib, quick):
    """Embedding 27 -> 16 for a context of 3 characters (48 inputs), tanh hidden 256, 27 outputs;
    batch 32."""
    _seed(lib)
    nn, F = lib.nn, lib.nn.functional
    vocab, context, batch = 27, 3, 32
    model = nn.Sequential(nn.Embedding(vocab, 16), nn.Flatten(), nn.Linear(16 * context, 256),
                          nn.Tanh(), nn.Linear(256, vocab))
    opt = _adamw(lib, model.parameters())
    rng = _rng()
    x = _t(lib, rng.integers(0, vocab, (batch, context)))
    y = _t(lib, rng.integers(0, vocab, batch))
    return _step(opt, lambda: F.cross_entropy(model(x), y))


# ``target``: issue 14's ratio for each; ``torch_ref_ms``: torch's time in its table.
MODELS: list[Workload] = [
    Workload("gpt", "nanoGPT step: 2 blocks, 4 heads, 128 wide, block 64, batch 8, AdamW", gpt,
             1.0, 15.0),
    Workload("char_lstm", "char LSTM step: embed 32, hidden 128, seq 32, batch 16, AdamW",
             char_lstm, 1.0, 5.0),
    Workload("lenet", "LeNet CNN step: 28x28, batch 32, AdamW", lenet, 1.0, 4.9),
    Workload("makemore_mlp", "makemore MLP step: embedding, 48-256-27, batch 32, AdamW",
             makemore_mlp, 0.6, 2.3),
]
