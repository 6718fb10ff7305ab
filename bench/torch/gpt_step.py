"""PyTorch's side of `npm run bench:torch`: the GPT that `scalelab bench` trains, written with
torch.nn, trained on the same kind of batch (random bytes) with the same optimiser, and timed
the same way (untimed warm-up steps, then timed steps). Prints one JSON object.

The model follows src/models/gpt.ts with its defaults: pre-norm blocks with LayerNorm, causal
multi-head attention, a 4·d GELU MLP (tanh form) with biases, learned positions, the output
tied to the token embedding. AdamW as src/train/optimizer.ts: lr 3e-4, betas (0.9, 0.95),
eps 1e-8, weight decay 0.1 on the matrices only, gradients clipped to a global norm of 1.
"""
import argparse
import json
import time

import torch
from torch import nn
from torch.nn import functional as F


class Block(nn.Module):
    def __init__(self, d_model, heads):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.ln2 = nn.LayerNorm(d_model)
        self.fc = nn.Linear(d_model, 4 * d_model)
        self.out = nn.Linear(4 * d_model, d_model)

    def attention(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(x).split(d, dim=2)
        q, k, v = (z.view(b, t, self.heads, d // self.heads).transpose(1, 2) for z in (q, k, v))
        scores = (q @ k.transpose(-2, -1)) * (d // self.heads) ** -0.5
        future = torch.ones(t, t, dtype=torch.bool).triu(1)
        y = scores.masked_fill(future, float('-inf')).softmax(dim=-1) @ v
        return self.proj(y.transpose(1, 2).reshape(b, t, d))

    def forward(self, x):
        x = x + self.attention(self.ln1(x))
        return x + self.out(F.gelu(self.fc(self.ln2(x)), approximate='tanh'))


class GPT(nn.Module):
    def __init__(self, layers, d_model, heads, ctx, vocab):
        super().__init__()
        self.wte = nn.Embedding(vocab, d_model)
        self.wpe = nn.Embedding(ctx, d_model)
        self.blocks = nn.ModuleList(Block(d_model, heads) for _ in range(layers))
        self.lnf = nn.LayerNorm(d_model)
        # GPT-2's initialisation, as scalelab's: weights N(0, 0.02), biases zero (torch's own
        # N(0, 1) embeddings, tied to the output, would start at a loss of about 20 nats).
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, std=0.02)
            if isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)

    def forward(self, ids, targets):
        x = self.wte(ids) + self.wpe(torch.arange(ids.shape[1]))
        for block in self.blocks:
            x = block(x)
        logits = self.lnf(x) @ self.wte.weight.T
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def optimiser(model):
    matrices = [p for p in model.parameters() if p.dim() == 2]
    others = [p for p in model.parameters() if p.dim() != 2]
    groups = [{'params': matrices, 'weight_decay': 0.1}, {'params': others, 'weight_decay': 0.0}]
    return torch.optim.AdamW(groups, lr=3e-4, betas=(0.9, 0.95), eps=1e-8)


def blas_library():
    """The BLAS library this process loaded (Debian's torch uses whichever libblas.so.3 is selected)."""
    try:
        with open('/proc/self/maps') as maps:
            paths = {line.split()[-1] for line in maps if 'blas' in line.lower() or 'mkl' in line.lower()}
    except OSError:
        return None
    return min(paths) if paths else None


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    for name, default in [('layers', 4), ('d-model', 256), ('heads', 4), ('ctx', 256), ('batch', 16),
                          ('vocab', 256), ('steps', 10), ('warmup', 3), ('threads', 1)]:
        p.add_argument(f'--{name}', type=int, default=default)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = GPT(a.layers, a.d_model, a.heads, a.ctx, a.vocab)
    opt = optimiser(model)
    ids = torch.randint(0, a.vocab, (a.batch, a.ctx))
    targets = torch.randint(0, a.vocab, (a.batch, a.ctx))

    def step():
        loss = model(ids, targets)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()  # waits for the step, as scalelab's does

    for _ in range(a.warmup):
        step()
    start = time.perf_counter()
    for _ in range(a.steps):
        loss = step()
    seconds = time.perf_counter() - start
    print(json.dumps({
        'torch': torch.__version__,
        'threads': torch.get_num_threads(),
        'params': sum(p.numel() for p in model.parameters()),
        'tokens_per_s': a.batch * a.ctx * a.steps / seconds,
        'step_ms': seconds * 1000 / a.steps,
        'final_loss': loss,
        'blas': blas_library(),
    }))


if __name__ == '__main__':
    main()
