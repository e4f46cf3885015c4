"""The benchmark workloads. Each one is written once against the torch API and built for ``ndgrad``
and ``torch`` alike; a few also have versions for HIPS autograd, MyGrad and JAX.

A builder takes ``(lib, quick)`` and returns a zero-argument callable: the thing that is timed.
It raises ``Missing`` when the library lacks something the workload needs (reported as n/a).
"""

from __future__ import annotations

from ._common import Builder, Missing, Workload, _f32, _rng, _seed, _t, need  # noqa: F401


# --- tiny ops: per-call overhead ------------------------------------------------------------------
def add_1(lib, quick):
    rng = _rng()
    a, b = _t(lib, _f32(rng, 1)), _t(lib, _f32(rng, 1))
    return lambda: a + b


def fwd_bwd_16(lib, quick):
    rng = _rng()
    x, w, b = (_t(lib, _f32(rng, 16), True) for _ in range(3))

    def step():
        (x * w + b).sum().backward()
    return step


def chain(lib, quick):
    n = 10_000 if quick else 1_000_000
    x = _t(lib, _f32(_rng(), n), True)
    relu = lib.relu

    def step():
        (lib.sin(x) * lib.exp(-x) + relu(x) ** 2).sum().backward()
    return step


def graph_1000(lib, quick):
    """1,000 small ops (250 x four) then backward: engine and node overhead."""
    x = _t(lib, _f32(_rng(), 16), True)
    reps = 25 if quick else 250

    def step():
        y = x
        for _ in range(reps):
            y = (y * 0.5 + 0.25).sin() - x
        y.sum().backward()
    return step


# --- dense linear algebra -------------------------------------------------------------------------
def _mm_size(quick):
    return 128 if quick else 1024


def matmul(lib, quick):
    n = _mm_size(quick)
    rng = _rng()
    a, b = _t(lib, _f32(rng, n, n)), _t(lib, _f32(rng, n, n))
    return lambda: a @ b


def matmul_numpy(quick):
    n = _mm_size(quick)
    rng = _rng()
    a, b = _f32(rng, n, n), _f32(rng, n, n)
    return lambda: a @ b


def _bmm_shape(quick):
    return (50, 100) if quick else (5000, 100)


def bmm(lib, quick):
    batch, d = _bmm_shape(quick)
    rng = _rng()
    x, y = _t(lib, _f32(rng, batch, d, d)), _t(lib, _f32(rng, batch, d, d))
    bmm_ = need(lib, "bmm")
    return lambda: bmm_(x, y)


def bmm_loop(lib, quick):
    """The notebook's loop of matmuls into slices of a preallocated result."""
    batch, d = _bmm_shape(quick)
    batch //= 10
    rng = _rng()
    x, y = _t(lib, _f32(rng, batch, d, d)), _t(lib, _f32(rng, batch, d, d))

    def step():
        z = lib.zeros(batch, d, d)
        for i in range(batch):
            z[i, :, :] = lib.matmul(x[i, :, :], y[i, :, :])
        return z
    return step


def _linalg(fn_path, n_full):
    def build(lib, quick):
        n = 32 if quick else n_full
        a = _t(lib, _f32(_rng(), n, n))
        fn = need(lib, fn_path)
        return lambda: fn(a)
    return build


def power_method(lib, quick):
    n, iters = (100, 10) if quick else (1000, 100)
    x = _f32(_rng(), n, n)
    a = _t(lib, x @ x.T / n)

    def step():
        v = lib.ones(n)
        for _ in range(iters):
            v = a @ v
            v = v / v.norm()
        return v @ (a @ v)
    return step


# --- training steps -------------------------------------------------------------------------------
def mlp_tiny(lib, quick):
    _seed(lib)
    nn = lib.nn
    model = nn.Sequential(nn.Linear(20, 20), nn.ReLU(), nn.Linear(20, 20), nn.ReLU(),
                          nn.Linear(20, 1))
    opt = need(lib, "optim.SGD")(model.parameters(), lr=0.01)
    rng = _rng()
    x, y = _t(lib, _f32(rng, 1, 20)), _t(lib, _f32(rng, 1, 1))

    def step():
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
    return step


def _mlp_medium_step(lib, batch=256):
    _seed(lib)
    nn = lib.nn
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                          nn.Linear(512, 10))
    ce = need(lib, "nn.functional.cross_entropy")
    opt = need(lib, "optim.SGD")(model.parameters(), lr=0.01, momentum=0.9)
    rng = _rng()
    x = _t(lib, _f32(rng, batch, 784))
    y = _t(lib, rng.integers(0, 10, batch))

    def step():
        opt.zero_grad()
        loss = ce(model(x), y)
        loss.backward()
        opt.step()
    return step


def mlp_medium(lib, quick):
    return _mlp_medium_step(lib, 32 if quick else 256)


def cnn(lib, quick):
    """Two 3x3 convs, ReLU, a linear head; 28x28 single-channel images, batch 64."""
    _seed(lib)
    nn = lib.nn
    side, batch = (8, 8) if quick else (28, 64)
    conv = need(nn, "Conv2d")
    body = nn.Sequential(conv(1, 8, 3, padding=1), nn.ReLU(), conv(8, 16, 3, stride=2, padding=1),
                         nn.ReLU())
    head = nn.Linear(16 * (side // 2) ** 2, 10)
    ce = need(lib, "nn.functional.cross_entropy")
    params = list(body.parameters()) + list(head.parameters())
    opt = need(lib, "optim.SGD")(params, lr=0.01, momentum=0.9)
    rng = _rng()
    x = _t(lib, _f32(rng, batch, 1, side, side))
    y = _t(lib, rng.integers(0, 10, batch))

    def step():
        opt.zero_grad()
        h = body(x)
        loss = ce(head(h.reshape(h.shape[0], -1)), y)
        loss.backward()
        opt.step()
    return step


# --- other libraries (optional) -------------------------------------------------------------------
def _ag_fwd_bwd_16(ag, quick):
    anp, grad = ag.numpy, ag.grad
    rng = _rng()
    params = tuple(_f32(rng, 16) for _ in range(3))
    g = grad(lambda p: anp.sum(p[0] * p[1] + p[2]))
    return lambda: g(params)


def _ag_chain(ag, quick):
    anp = ag.numpy
    x = _f32(_rng(), 10_000 if quick else 1_000_000)
    g = ag.grad(lambda x: anp.sum(anp.sin(x) * anp.exp(-x) + anp.maximum(x, 0) ** 2))
    return lambda: g(x)


def _ag_graph_1000(ag, quick):
    anp = ag.numpy
    x0 = _f32(_rng(), 16)
    reps = 25 if quick else 250

    def f(x):
        y = x
        for _ in range(reps):
            y = anp.sin(y * 0.5 + 0.25) - x
        return anp.sum(y)
    g = ag.grad(f)
    return lambda: g(x0)


def _mg_add_1(mg, quick):
    rng = _rng()
    a, b = mg.tensor(_f32(rng, 1)), mg.tensor(_f32(rng, 1))
    return lambda: a + b


def _mg_fwd_bwd_16(mg, quick):
    rng = _rng()
    x, w, b = (mg.tensor(_f32(rng, 16)) for _ in range(3))
    return lambda: (x * w + b).sum().backward()


def _mg_chain(mg, quick):
    from mygrad.nnet.activations import relu

    x = mg.tensor(_f32(_rng(), 10_000 if quick else 1_000_000))
    return lambda: (mg.sin(x) * mg.exp(-x) + relu(x) ** 2).sum().backward()


def _mg_graph_1000(mg, quick):
    x = mg.tensor(_f32(_rng(), 16))
    reps = 25 if quick else 250

    def step():
        y = x
        for _ in range(reps):
            y = mg.sin(y * 0.5 + 0.25) - x
        y.sum().backward()
    return step


def _mg_matmul(mg, quick):
    n = _mm_size(quick)
    rng = _rng()
    a, b = mg.tensor(_f32(rng, n, n)), mg.tensor(_f32(rng, n, n))
    return lambda: mg.matmul(a, b)


def _jax_block(fn):
    return lambda: fn().block_until_ready()


def _jx_add_1(jax, quick):
    rng = _rng()
    a, b = jax.numpy.asarray(_f32(rng, 1)), jax.numpy.asarray(_f32(rng, 1))
    return _jax_block(lambda: a + b)


def _jx_fwd_bwd_16(jax, quick):
    jnp = jax.numpy
    rng = _rng()
    x, w, b = (jnp.asarray(_f32(rng, 16)) for _ in range(3))
    g = jax.jit(jax.grad(lambda x, w, b: jnp.sum(x * w + b), argnums=(0, 1, 2)))
    return lambda: jax.block_until_ready(g(x, w, b))


def _jx_chain(jax, quick):
    jnp = jax.numpy
    x = jnp.asarray(_f32(_rng(), 10_000 if quick else 1_000_000))
    g = jax.jit(jax.grad(lambda x: jnp.sum(jnp.sin(x) * jnp.exp(-x) + jax.nn.relu(x) ** 2)))
    return _jax_block(lambda: g(x))


def _jx_graph_1000(jax, quick):
    jnp = jax.numpy
    x0 = jnp.asarray(_f32(_rng(), 16))
    reps = 25 if quick else 250

    def f(x):
        y = x
        for _ in range(reps):
            y = jnp.sin(y * 0.5 + 0.25) - x
        return jnp.sum(y)
    g = jax.jit(jax.grad(f))
    return _jax_block(lambda: g(x0))


def _jx_matmul(jax, quick):
    n = _mm_size(quick)
    rng = _rng()
    a, b = jax.numpy.asarray(_f32(rng, n, n)), jax.numpy.asarray(_f32(rng, n, n))
    return _jax_block(lambda: a @ b)


def _jx_bmm(jax, quick):
    batch, d = _bmm_shape(quick)
    rng = _rng()
    x, y = (jax.numpy.asarray(_f32(rng, batch, d, d)) for _ in range(2))
    return _jax_block(lambda: jax.numpy.matmul(x, y))


def _jx_linalg(fn_path, n_full):
    def build(jax, quick):
        n = 32 if quick else n_full
        a = jax.numpy.asarray(_f32(_rng(), n, n))
        fn = need(jax.numpy.linalg, fn_path)
        return lambda: jax.block_until_ready(fn(a))
    return build


def _jx_power_method(jax, quick):
    jnp = jax.numpy
    n, iters = (100, 10) if quick else (1000, 100)
    x = _f32(_rng(), n, n)
    a = jnp.asarray(x @ x.T / n)

    @jax.jit
    def run(a):
        def body(_, v):
            v = a @ v
            return v / jnp.linalg.norm(v)
        v = jax.lax.fori_loop(0, iters, body, jnp.ones(n, a.dtype))
        return v @ (a @ v)
    return _jax_block(lambda: run(a))


# --- the table ------------------------------------------------------------------------------------
WORKLOADS: list[Workload] = [
    Workload("add_1", "a + b, 1 element, forward", add_1, 1.0, 0.0032,
             others={"mygrad": _mg_add_1, "jax": _jx_add_1}),
    Workload("fwd_bwd_16", "(x*w+b).sum() fwd+bwd, 16 elements", fwd_bwd_16, 0.5, 0.125,
             others={"autograd": _ag_fwd_bwd_16, "mygrad": _mg_fwd_bwd_16,
                     "jax": _jx_fwd_bwd_16}),
    Workload("chain_1m", "sin*exp+relu**2 fwd+bwd, 1M elements", chain, 1.0, 16.0,
             others={"autograd": _ag_chain, "mygrad": _mg_chain, "jax": _jx_chain}),
    Workload("matmul_1024", "matmul 1024x1024", matmul, 0.9, 20.4,
             flops=lambda q: 2.0 * _mm_size(q) ** 3,
             others={"mygrad": _mg_matmul, "jax": _jx_matmul}),
    Workload("bmm", "bmm 5000 x (100x100 @ 100x100)", bmm, 1.0, 184.0,
             flops=lambda q: 2.0 * _bmm_shape(q)[0] * _bmm_shape(q)[1] ** 3,
             others={"jax": _jx_bmm}),
    Workload("bmm_loop", "notebook loop: 500 matmuls into z[i]", bmm_loop),
    Workload("mlp_tiny", "MLP 20-20-20-1 step, batch 1, SGD", mlp_tiny, 0.5, 0.630),
    Workload("mlp_medium", "MLP 784-512-512-10 step, batch 256, CE+SGD", mlp_medium, 1.05, 8.3),
    Workload("svd_512", "linalg.svd 512x512", _linalg("linalg.svd", 512), 1.2, 46.0,
             others={"jax": _jx_linalg("svd", 512)}),
    Workload("inv_512", "linalg.inv 512x512", _linalg("linalg.inv", 512), 1.2, 9.1,
             others={"jax": _jx_linalg("inv", 512)}),
    Workload("eigvals_256", "linalg.eigvals 256x256", _linalg("linalg.eigvals", 256), 1.2, 13.6,
             others={"jax": _jx_linalg("eigvals", 256)}),
    Workload("power_method", "power method, 100 iters, 1000x1000", power_method, 0.6, 14.2,
             others={"jax": _jx_power_method}),
    Workload("cnn", "CNN step: 2 convs + linear, 28x28, batch 64", cnn),
    Workload("graph_1000", "1,000 small ops fwd+bwd", graph_1000,
             others={"autograd": _ag_graph_1000, "mygrad": _mg_graph_1000,
                     "jax": _jx_graph_1000}),
]

# The models users train (issue 14): nanoGPT, a char LSTM, LeNet, makemore's MLP.
from .models import MODELS  # noqa: E402

WORKLOADS += MODELS
