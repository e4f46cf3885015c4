"""PyTorch-identical CPU random streams on NumPy.

``Engine`` reproduces torch's CPU generator (``at::CPUGeneratorImpl``) bit for bit: after
``manual_seed(s)`` each sampler consumes the Mersenne Twister exactly as ATen's CPU kernel does
and returns the same values, so any interleaving of calls stays in lock step with torch.

How torch builds each stream (ATen: core/MT19937RNGEngine.h, CPUGeneratorImpl.cpp,
core/DistributionsHelper.h, core/TransformationHelper.h, native/cpu/DistributionTemplates.h,
native/cpu/avx_mathfun.h, native/TensorFactories.cpp, native/Distributions.cpp,
native/cpu/MultinomialKernel.cpp, native/TopKImpl.h):

* Engine: mt19937 seeded with init_genrand(seed & 0xffffffff), run here by NumPy's ``MT19937``
  bit generator (same recurrence, state set directly).  random64() = two draws, first high.
* Uniform reals: float16/bfloat16/float32 use 24 bits of one draw in float, float64 53 bits of
  random64(); ``u * (to - from) + from`` is a fused multiply-add (GCC contracts it); a value
  that rounds up to ``to`` becomes ``from``.
* randint: ``draw % range + low``, 64-bit draws when range >= 2**28, else 32-bit.
* randperm: n < 214748364 swaps a[i] with a[i + random() % (n - i)] for i < n - 1; larger n
  runs the inside-out shuffle with random64() % (i + 1).  Both loops are serial; here the
  final permutation is resolved by sorting and pointer jumping instead.
* normal (randn, normal_): numel >= 16 draws all uniforms, runs Box-Muller on blocks of 16
  (u[0:8] radii, u[8:16] angles) and, if numel % 16, redraws 16 uniforms for the last 16
  outputs (float16/bfloat16 fill block by block through a float buffer, so their tail block
  uses the 16 draws after the last full block).  The float kernel is ATen's AVX2 one (also
  used on AVX512 machines): avx_mathfun's log256_ps / sincos256_ps, emulated here in float32
  with the fused multiply-adds GCC emits.  float64 uses libm log/cos/sin.  numel < 16 runs the
  scalar double Box-Muller (log1p, sin, cos), whose second value is cached in the generator
  (and in get_state) for the next call, then casts to the dtype.
* bernoulli: ``uniform < p``; double uniform for a float64 p tensor or a scalar p, else float.
* exponential: ``-1/lambda * log1p(-u)`` in double, cast to the dtype.
* multinomial: with replacement and num_samples > 1, per-row float cumulative sums searched
  with double uniforms; otherwise argmax / topk of ``p / Exponential(1)``, with topk's order
  of tied values replayed from libstdc++'s partial_sort / nth_element + sort.
* get_state/set_state: the 5056-byte ``CPUGeneratorImplState`` of torch.get_rng_state(),
  so states interchange with torch in both directions.

Exactness.  Verified bit-identical to torch 2.13 (x86-64 Linux wheel, glibc 2.36) for every
sampler above, for float16, bfloat16, float32 and float64, numel 0, 1, < 16, 16, 17, ...,
100003, many seeds and random mixed call sequences, including the state bytes after each call.
The floating-point samplers inherit torch's dependence on its platform:

* libm: float64 normal and the scalar normal / exponential paths go through glibc log and
  log1p (x86-64 FMA variants, re-implemented below from glibc's source: NumPy's own float64
  log / log1p round ~0.3% / ~7% of these inputs differently) and sin / cos (NumPy's float64
  sin / cos call libm).  A libm rounding differently (macOS, Windows, a glibc without the FMA
  log1p, ~0.05% of log1p values) changes those float64 results in the last bit; float32 and
  smaller outputs of the scalar path are rounded from double and practically never change.
* CPU kernel: torch without AVX2 (``ATEN_CPU_CAPABILITY=default``, ARM) computes float randn
  with numel >= 16 by libm logf / cosf / sinf instead of avx_mathfun, differing in the last bit
  for ~40% of values; Windows (MSVC) builds may fuse multiply-adds differently.  Neither is
  reproduced.
* Older torch releases drew bernoulli_(float) (Intel CPUs) and exponential_ from MKL's VSL;
  torch 2.13 uses the default kernels reproduced here.
"""

from __future__ import annotations

import math
import secrets
import struct

import ml_dtypes
import numpy as np

from . import _dtype as D
from ._dtype import meta_name
from ._errors import not_implemented, overflow

__all__ = ["Engine", "default_engine", "DEFAULT_SEED"]

DEFAULT_SEED = 67280421310721  # at::default_rng_seed_val
_N = 624  # mt19937 state words
_STATE_BYTES = 5056  # sizeof(at::detail::CPUGeneratorImplState)
_RANDPERM_SMALL = 0xFFFFFFFF // 20  # below this randperm uses 32-bit draws and forward swaps

_F16 = np.dtype(np.float16)
_BF16 = np.dtype(ml_dtypes.bfloat16)
_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
_FLOATS = (_F16, _BF16, _F32, _F64)
_U64 = np.uint64
_MANT53 = _U64((1 << 53) - 1)

# ---------------------------------------------------------------------------------------
# Correctly rounded fused multiply-add: torch's kernels and glibc are compiled with FMA
# contraction, NumPy has no fma ufunc.


def _two_sum_err(a, b, s):
    """Exact error of s = fl(a + b) (Knuth's TwoSum)."""
    bb = s - a
    return (a - (s - bb)) + (b - bb)


def _fma32(a, b, c) -> np.ndarray:
    """float32 fma.  The product of two float32 is exact in float64, so only the final
    float64 -> float32 rounding can go wrong, and only when the float64 sum sits exactly on a
    float32 tie: then the sign of the float64 rounding error breaks the tie."""
    s = np.multiply(a, b, dtype=np.float64)
    s += c
    tie = (s.view(_U64) << _U64(35)) == _U64(1 << 63)  # low 29 bits == 0x10000000
    if tie.any():
        p = np.broadcast_to(np.multiply(a, b, dtype=np.float64), s.shape)[tie]
        c = np.broadcast_to(np.asarray(c, np.float64), s.shape)[tie]
        err = _two_sum_err(p, c, s[tie])
        s[tie] = np.where(err != 0, np.nextafter(s[tie], np.copysign(np.inf, err)), s[tie])
    return s.astype(np.float32)


def _split(a):
    """Veltkamp split of doubles into 26-bit halves (for the exact product)."""
    t = 134217729.0 * a  # 2**27 + 1
    hi = t - (t - a)
    return hi, a - hi


def _fma64(a, b, c) -> np.ndarray:
    """Correctly rounded float64 fma (Boldo & Melquiond: exact product, round-to-odd sum)."""
    a, b, c = (np.asarray(v, np.float64) for v in (a, b, c))
    ph = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    pl = ((ah * bh - ph) + ah * bl + al * bh) + al * bl  # a * b == ph + pl exactly
    th = c + ph
    tl = _two_sum_err(c, ph, th)
    v = np.asarray(tl + pl)
    err = _two_sum_err(tl, pl, v)
    odd = (err != 0) & ((v.view(_U64) & _U64(1)) == 0)
    if odd.any():  # round tl + pl to odd so that the final rounding cannot double-round
        v = np.where(odd, np.nextafter(v, np.copysign(np.inf, err)), v)
    return th + v


# ---------------------------------------------------------------------------------------
# avx_mathfun (ATen/native/cpu/avx_mathfun.h) in float32, used by the AVX2 randn kernel.
# GCC fuses each `a * b + c` of the intrinsics whose product has no other use; the exact
# contraction pattern below was matched against torch on millions of values.

_LOG_P = [float(np.float32(v)) for v in (
    7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1,
    -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1)]
_F = np.float32


def _log256_ps(x: np.ndarray) -> np.ndarray:
    """log256_ps for x in (0, 1] (Cephes logf)."""
    x = np.maximum(x, _F(1.17549435e-38))  # min normal; the kernel never passes x <= 0
    bits = x.view(np.int32)
    e = ((bits >> 23) - 0x7F).astype(np.float32) + _F(1)
    x = ((bits & ~0x7F800000) | 0x3F000000).view(np.float32)  # mantissa in [0.5, 1)
    small = x < _F(0.707106781186547524)
    tmp = np.where(small, x, _F(0))
    x = x - _F(1)
    e = e - small.astype(np.float32)
    x = x + tmp
    z = x * x
    y = np.full_like(x, _LOG_P[0])
    for p in _LOG_P[1:]:
        y = _fma32(y, x, _F(p))
    y = y * x
    y = _fma32(y, z, e * _F(-2.12194440e-4))
    y = _fma32(-z, _F(0.5), y)
    x = x + y
    return _fma32(e, _F(0.693359375), x)


def _sincos256_ps(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """sincos256_ps for x >= 0 (Cephes sinf/cosf with 3-part Cody-Waite reduction)."""
    j = (x * _F(1.27323954473516)).astype(np.int32)  # cvttps: truncation
    j = (j + 1) & ~1
    y = j.astype(np.float32)
    sin_neg = (j & 4) != 0
    cos_neg = (~(j - 2) & 4) != 0
    use_sin_poly = (j & 2) == 0
    x = _fma32(y, _F(-0.78515625), x)
    x = _fma32(y, _F(-2.4187564849853515625e-4), x)
    x = _fma32(y, _F(-3.77489497744594108e-8), x)
    z = x * x
    c = _fma32(_F(2.443315711809948e-5), z, _F(-1.388731625493765e-3))
    c = _fma32(c, z, _F(4.166664568298827e-2))
    c = c * z
    c = _fma32(c, z, -(z * _F(0.5))) + _F(1)
    s = _fma32(_F(-1.9515295891e-4), z, _F(8.3321608736e-3))
    s = _fma32(s, z, _F(-1.6666654611e-1))
    s = _fma32(s * z, x, x)
    sin = np.where(use_sin_poly, s, c)
    cos = np.where(use_sin_poly, c, s)
    return np.where(sin_neg, -sin, sin), np.where(cos_neg, -cos, cos)


def _box_muller16_f32(u: np.ndarray, mean: float, std: float) -> np.ndarray:
    """NormalFill16<float> (AVX2) on consecutive blocks of 16 float32 uniforms."""
    if u.size <= _CHUNK:
        return _box_muller16_block(u, mean, std)
    # Blocks that stay in cache: the emulated fmas make many passes over their temporaries.
    return np.concatenate([_box_muller16_block(u[i:i + _CHUNK], mean, std)
                           for i in range(0, u.size, _CHUNK)])


_CHUNK = 1 << 16  # a multiple of 16


def _box_muller16_block(u: np.ndarray, mean: float, std: float) -> np.ndarray:
    u = u.reshape(-1, 16)
    radius = np.sqrt(_F(-2) * _log256_ps(_F(1) - u[:, :8]))
    sin, cos = _sincos256_ps(_F(2 * math.pi) * u[:, 8:])
    out = np.concatenate([radius * cos, radius * sin], axis=1)
    if mean != 0 or std != 1:
        out = _fma32(out, _F(std), _F(mean))
    return out.ravel()


# ---------------------------------------------------------------------------------------
# glibc double log and log1p (x86-64 FMA variants, glibc >= 2.28).  NumPy's own float64 log /
# log1p round differently in ~0.3% / ~7% of cases; NumPy's float64 sin/cos call libm.

_LOG_TABLE = """
    0x1.734f0c3e0de9fp+0 -0x1.7cc7f79e69000p-2  0x1.713786a2ce91fp+0 -0x1.76feec20d0000p-2
    0x1.6f26008fab5a0p+0 -0x1.713e31351e000p-2  0x1.6d1a61f138c7dp+0 -0x1.6b85b38287800p-2
    0x1.6b1490bc5b4d1p+0 -0x1.65d5590807800p-2  0x1.69147332f0cbap+0 -0x1.602d076180000p-2
    0x1.6719f18224223p+0 -0x1.5a8ca86909000p-2  0x1.6524f99a51ed9p+0 -0x1.54f4356035000p-2
    0x1.63356aa8f24c4p+0 -0x1.4f637c36b4000p-2  0x1.614b36b9ddc14p+0 -0x1.49da7fda85000p-2
    0x1.5f66452c65c4cp+0 -0x1.445923989a800p-2  0x1.5d867b5912c4fp+0 -0x1.3edf439b0b800p-2
    0x1.5babccb5b90dep+0 -0x1.396ce448f7000p-2  0x1.59d61f2d91a78p+0 -0x1.3401e17bda000p-2
    0x1.5805612465687p+0 -0x1.2e9e2ef468000p-2  0x1.56397cee76bd3p+0 -0x1.2941b3830e000p-2
    0x1.54725e2a77f93p+0 -0x1.23ec58cda8800p-2  0x1.52aff42064583p+0 -0x1.1e9e129279000p-2
    0x1.50f22dbb2bddfp+0 -0x1.1956d2b48f800p-2  0x1.4f38f4734ded7p+0 -0x1.141679ab9f800p-2
    0x1.4d843cfde2840p+0 -0x1.0edd094ef9800p-2  0x1.4bd3ec078a3c8p+0 -0x1.09aa518db1000p-2
    0x1.4a27fc3e0258ap+0 -0x1.047e65263b800p-2  0x1.4880524d48434p+0 -0x1.feb224586f000p-3
    0x1.46dce1b192d0bp+0 -0x1.f474a7517b000p-3  0x1.453d9d3391854p+0 -0x1.ea4443d103000p-3
    0x1.43a2744b4845ap+0 -0x1.e020d44e9b000p-3  0x1.420b54115f8fbp+0 -0x1.d60a22977f000p-3
    0x1.40782da3ef4b1p+0 -0x1.cc00104959000p-3  0x1.3ee8f5d57fe8fp+0 -0x1.c202956891000p-3
    0x1.3d5d9a00b4ce9p+0 -0x1.b81178d811000p-3  0x1.3bd60c010c12bp+0 -0x1.ae2c9ccd3d000p-3
    0x1.3a5242b75dab8p+0 -0x1.a45402e129000p-3  0x1.38d22cd9fd002p+0 -0x1.9a877681df000p-3
    0x1.3755bc5847a1cp+0 -0x1.90c6d69483000p-3  0x1.35dce49ad36e2p+0 -0x1.87120a645c000p-3
    0x1.34679984dd440p+0 -0x1.7d68fb4143000p-3  0x1.32f5cceffcb24p+0 -0x1.73cb83c627000p-3
    0x1.3187775a10d49p+0 -0x1.6a39a9b376000p-3  0x1.301c8373e3990p+0 -0x1.60b3154b7a000p-3
    0x1.2eb4ebb95f841p+0 -0x1.5737d76243000p-3  0x1.2d50a0219a9d1p+0 -0x1.4dc7b8fc23000p-3
    0x1.2bef9a8b7fd2ap+0 -0x1.4462c51d20000p-3  0x1.2a91c7a0c1babp+0 -0x1.3b08abc830000p-3
    0x1.293726014b530p+0 -0x1.31b996b490000p-3  0x1.27dfa5757a1f5p+0 -0x1.2875490a44000p-3
    0x1.268b39b1d3bbfp+0 -0x1.1f3b9f879a000p-3  0x1.2539d838ff5bdp+0 -0x1.160c8252ca000p-3
    0x1.23eb7aac9083bp+0 -0x1.0ce7f57f72000p-3  0x1.22a012ba940b6p+0 -0x1.03cdc49fea000p-3
    0x1.2157996cc4132p+0 -0x1.f57bdbc4b8000p-4  0x1.201201dd2fc9bp+0 -0x1.e370896404000p-4
    0x1.1ecf4494d480bp+0 -0x1.d17983ef94000p-4  0x1.1d8f5528f6569p+0 -0x1.bf9674ed8a000p-4
    0x1.1c52311577e7cp+0 -0x1.adc79202f6000p-4  0x1.1b17c74cb26e9p+0 -0x1.9c0c3e7288000p-4
    0x1.19e010c2c1ab6p+0 -0x1.8a646b372c000p-4  0x1.18ab07bb670bdp+0 -0x1.78d01b3ac0000p-4
    0x1.1778a25efbcb6p+0 -0x1.674f145380000p-4  0x1.1648d354c31dap+0 -0x1.55e0e6d878000p-4
    0x1.151b990275fddp+0 -0x1.4485cdea1e000p-4  0x1.13f0ea432d24cp+0 -0x1.333d94d6aa000p-4
    0x1.12c8b7210f9dap+0 -0x1.22079f8c56000p-4  0x1.11a3028ecb531p+0 -0x1.10e4698622000p-4
    0x1.107fbda8434afp+0 -0x1.ffa6c6ad20000p-5  0x1.0f5ee0f4e6bb3p+0 -0x1.dda8d4a774000p-5
    0x1.0e4065d2a9fcep+0 -0x1.bbcece4850000p-5  0x1.0d244632ca521p+0 -0x1.9a1894012c000p-5
    0x1.0c0a77ce2981ap+0 -0x1.788583302c000p-5  0x1.0af2f83c636d1p+0 -0x1.5715e67d68000p-5
    0x1.09ddb98a01339p+0 -0x1.35c8a49658000p-5  0x1.08cabaf52e7dfp+0 -0x1.149e364154000p-5
    0x1.07b9f2f4e28fbp+0 -0x1.e72c082eb8000p-6  0x1.06ab58c358f19p+0 -0x1.a55f152528000p-6
    0x1.059eea5ecf92cp+0 -0x1.63d62cf818000p-6  0x1.04949cdd12c90p+0 -0x1.228fb8caa0000p-6
    0x1.038c6c6f0ada9p+0 -0x1.c317b20f90000p-7  0x1.02865137932a9p+0 -0x1.419355daa0000p-7
    0x1.0182427ea7348p+0 -0x1.81203c2ec0000p-8  0x1.008040614b195p+0 -0x1.0040979240000p-9
    0x1.fe01ff726fa1ap-1 0x1.feff384900000p-9  0x1.fa11cc261ea74p-1 0x1.7dc41353d0000p-7
    0x1.f6310b081992ep-1 0x1.3cea3c4c28000p-6  0x1.f25f63ceeadcdp-1 0x1.b9fc114890000p-6
    0x1.ee9c8039113e7p-1 0x1.1b0d8ce110000p-5  0x1.eae8078cbb1abp-1 0x1.58a5bd001c000p-5
    0x1.e741aa29d0c9bp-1 0x1.95c8340d88000p-5  0x1.e3a91830a99b5p-1 0x1.d276aef578000p-5
    0x1.e01e009609a56p-1 0x1.07598e598c000p-4  0x1.dca01e577bb98p-1 0x1.253f5e30d2000p-4
    0x1.d92f20b7c9103p-1 0x1.42edd8b380000p-4  0x1.d5cac66fb5ccep-1 0x1.606598757c000p-4
    0x1.d272caa5ede9dp-1 0x1.7da76356a0000p-4  0x1.cf26e3e6b2ccdp-1 0x1.9ab434e1c6000p-4
    0x1.cbe6da2a77902p-1 0x1.b78c7bb0d6000p-4  0x1.c8b266d37086dp-1 0x1.d431332e72000p-4
    0x1.c5894bd5d5804p-1 0x1.f0a3171de6000p-4  0x1.c26b533bb9f8cp-1 0x1.067152b914000p-3
    0x1.bf583eeece73fp-1 0x1.147858292b000p-3  0x1.bc4fd75db96c1p-1 0x1.2266ecdca3000p-3
    0x1.b951e0c864a28p-1 0x1.303d7a6c55000p-3  0x1.b65e2c5ef3e2cp-1 0x1.3dfc33c331000p-3
    0x1.b374867c9888bp-1 0x1.4ba366b7a8000p-3  0x1.b094b211d304ap-1 0x1.5933928d1f000p-3
    0x1.adbe885f2ef7ep-1 0x1.66acd2418f000p-3  0x1.aaf1d31603da2p-1 0x1.740f8ec669000p-3
    0x1.a82e63fd358a7p-1 0x1.815c0f51af000p-3  0x1.a5740ef09738bp-1 0x1.8e92954f68000p-3
    0x1.a2c2a90ab4b27p-1 0x1.9bb3602f84000p-3  0x1.a01a01393f2d1p-1 0x1.a8bed1c2c0000p-3
    0x1.9d79f24db3c1bp-1 0x1.b5b515c01d000p-3  0x1.9ae2505c7b190p-1 0x1.c2967ccbcc000p-3
    0x1.9852ef297ce2fp-1 0x1.cf635d5486000p-3  0x1.95cbaeea44b75p-1 0x1.dc1bd3446c000p-3
    0x1.934c69de74838p-1 0x1.e8c01b8cfe000p-3  0x1.90d4f2f6752e6p-1 0x1.f5509c0179000p-3
    0x1.8e6528effd79dp-1 0x1.00e6c121fb800p-2  0x1.8bfce9fcc007cp-1 0x1.071b80e93d000p-2
    0x1.899c0dabec30ep-1 0x1.0d46b9e867000p-2  0x1.87427aa2317fbp-1 0x1.13687334bd000p-2
    0x1.84f00acb39a08p-1 0x1.1980d67234800p-2  0x1.82a49e8653e55p-1 0x1.1f8ffe0cc8000p-2
    0x1.8060195f40260p-1 0x1.2595fd7636800p-2  0x1.7e22563e0a329p-1 0x1.2b9300914a800p-2
    0x1.7beb377dcb5adp-1 0x1.3187210436000p-2  0x1.79baa679725c2p-1 0x1.377266dec1800p-2
    0x1.77907f2170657p-1 0x1.3d54ffbaf3000p-2  0x1.756cadbd6130cp-1 0x1.432eee32fe000p-2
"""  # glibc sysdeps/ieee754/dbl-64/e_log_data.c: (1/c, log(c)) for N = 128
_LOG_INVC, _LOG_LOGC = np.array([float.fromhex(v) for v in _LOG_TABLE.split()]).reshape(-1, 2).T
_LN2HI, _LN2LO = float.fromhex("0x1.62e42fefa3800p-1"), float.fromhex("0x1.ef35793c76730p-45")
_LOG_A = [float.fromhex(v) for v in (
    "-0x1.0000000000001p-1 0x1.555555551305bp-2 -0x1.fffffffeb459p-3 0x1.999b324f10111p-3 "
    "-0x1.55575e506c89fp-3").split()]
_LOG_B = [float.fromhex(v) for v in (
    "-0x1p-1 0x1.5555555555577p-2 -0x1.ffffffffffdcbp-3 0x1.999999995dd0cp-3 "
    "-0x1.55555556745a7p-3 0x1.24924a344de3p-3 -0x1.fffffa4423d65p-4 0x1.c7184282ad6cap-4 "
    "-0x1.999eb43b068ffp-4 0x1.78182f7afd085p-4 -0x1.5521375d145cdp-4").split()]


def _glibc_log(x: np.ndarray) -> np.ndarray:
    """glibc log(x) for positive normal x (sysdeps/ieee754/dbl-64/e_log.c, FMA build)."""
    ix = x.view(_U64)
    lo_bits = np.float64(1 - 2.0**-4).view(_U64)
    near = (ix - lo_bits) < (np.float64(1 + float.fromhex("0x1.09p-4")).view(_U64) - lo_bits)
    out = np.empty_like(x)

    B = _LOG_B  # |x - 1| small: polynomial in r with r*r split into hi/lo parts
    r = x[near] - 1.0
    r2 = r * r
    r3 = r * r2
    p = _fma64(r3, B[10], _fma64(r2, B[9], _fma64(r, B[8], B[7])))
    p = _fma64(r3, p, _fma64(r2, B[6], _fma64(r, B[5], B[4])))
    p = _fma64(r3, p, _fma64(r2, B[3], _fma64(r, B[2], B[1])))
    w = r * 2.0**27
    rhi = r + w - w
    rlo = r - rhi
    w = rhi * rhi * B[0]  # exact
    hi = r + w
    lo = _fma64(B[0] * rlo, rhi + r, r - hi + w)
    out[near] = np.where(r == 0, 0.0, _fma64(r3, p, lo) + hi)

    tmp = ix[~near] - _U64(0x3FE6000000000000)  # x = 2^k z with z in [0x1.6p-1, 0x1.6p0)
    i = ((tmp >> _U64(45)) & _U64(127)).astype(np.intp)
    k = (tmp.view(np.int64) >> 52).astype(np.float64)
    z = (ix[~near] - (tmp & _U64(0xFFF << 52))).view(np.float64)
    r = _fma64(z, _LOG_INVC[i], -1.0)
    w = k * _LN2HI + _LOG_LOGC[i]  # exact by construction of the table
    hi = w + r
    lo = _fma64(k, _LN2LO, w - hi + r)
    r2 = r * r
    A = _LOG_A
    p = _fma64(r2, _fma64(r, A[4], A[3]), _fma64(r, A[2], A[1]))
    out[~near] = _fma64(r * r2, p, _fma64(r2, A[0], lo)) + hi
    return out


_LN2_HI, _LN2_LO = 6.93147180369123816490e-01, 1.90821492927058770002e-10
_LP = (6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01,
       2.222219843214978396e-01, 1.818357216161805012e-01, 1.531383769920937332e-01,
       1.479819860511658591e-01)


def _glibc_log1p(x: np.ndarray) -> np.ndarray:
    """glibc log1p(x) for x in (-1, 0] (fdlibm s_log1p.c; the operation order and fused
    operations follow the x86-64 FMA build's machine code)."""
    hx = (x.view(_U64) >> _U64(32)).astype(np.int64) & 0x7FFFFFFF  # |x| high word
    out = np.empty_like(x)

    tiny = hx < 0x3E200000  # |x| < 2**-29
    xt = x[tiny]
    out[tiny] = np.where(hx[tiny] < 0x3C900000, xt, _fma64(-(xt * xt), 0.5, xt))

    # -0.2929 < x: f = x, k = 0.  Otherwise renormalise u = 1 + x = 2^k (1 + f), c = rounding
    # error of u divided by u.
    direct = ~tiny & (hx <= 0x3FD2BEC3)
    big = ~tiny & ~direct
    f = x.copy()
    k = np.zeros_like(x)
    c = np.zeros_like(x)
    hu = np.ones(x.shape, np.int64)
    xb = x[big]
    u = 1.0 + xb
    uhi = (u.view(_U64) >> _U64(32)).astype(np.int64)
    kb = (uhi >> 20) - 1023
    c[big] = np.where(kb > 0, 1.0 - (u - xb), xb - (u - 1.0)) / u
    m = uhi & 0xFFFFF
    low = m < 0x6A09E
    k[big] = np.where(low, kb, kb + 1)
    new_hi = np.where(low, m | 0x3FF00000, m | 0x3FE00000).astype(_U64)
    u = ((new_hi << _U64(32)) | (u.view(_U64) & _U64(0xFFFFFFFF))).view(np.float64)
    hu[big] = np.where(low, m, (0x100000 - m) >> 2)
    f[big] = u - 1.0

    sel = ~tiny
    f, k, c, hu = f[sel], k[sel], c[sel], hu[sel]
    hfsq = 0.5 * f * f
    s = f / (2.0 + f)
    z = s * s
    z2 = z * z
    z4 = z2 * z2
    z6 = z4 * z2
    R = _fma64(z, _LP[0], z2 * _fma64(z, _LP[2], _LP[1]))
    R = _fma64(z4, _fma64(z, _LP[4], _LP[3]), R)
    R = _fma64(z6, _fma64(z, _LP[6], _LP[5]), R)
    klo = np.zeros_like(f)
    kn = k != 0
    klo[kn] = _fma64(k[kn], _LN2_LO, c[kn])
    t = s * (hfsq + R)
    res = np.where(kn, k * _LN2_HI - (hfsq - (t + klo) - f), f - (hfsq - t))
    fine = hu == 0  # |f| < 2**-20: short polynomial
    if fine.any():
        f, k, klo, hfsq = f[fine], k[fine], klo[fine], hfsq[fine]
        R0 = _fma64(-f, 0.66666666666666666, 1.0) * hfsq
        r = np.where(k == 0, f - R0, k * _LN2_HI - ((R0 - klo) - f))
        res[fine] = np.where(f == 0, np.where(k == 0, 0.0, k * _LN2_HI + klo), r)
    out[sel] = res
    return out


# ---------------------------------------------------------------------------------------
# Helpers


def _numel(shape) -> tuple[tuple[int, ...], int]:
    shape = (int(shape),) if np.ndim(shape) == 0 else tuple(int(s) for s in shape)
    return shape, math.prod(shape)


def _float_dtype(dtype) -> np.dtype:
    dt = np.dtype(dtype)
    if dt not in _FLOATS:
        raise TypeError("expected a floating dtype (float16, bfloat16, float32, float64), "
                        f"got {dt}")
    return dt


def _cast(x: np.ndarray, dt: np.dtype) -> np.ndarray:
    """static_cast<scalar_t> from the opmath/double value.  c10::Half and c10::BFloat16 are
    constructed from float, so a double goes through float32 first (two roundings)."""
    if dt in (_F16, _BF16) and x.dtype == _F64:
        x = x.astype(np.float32)
    return x.astype(dt, copy=False)


def _libm(fn, x: np.ndarray) -> np.ndarray:
    """``fn`` (a ``math`` function: the C library's, as torch's scalar kernels call) on each
    element; NumPy's own exp and tan differ from glibc's in the last bit now and then."""
    return np.fromiter(map(fn, x.tolist()), np.float64, x.size)


def _init_key(seed: int) -> np.ndarray:
    """mt19937 init_genrand on the low 32 bits of the seed."""
    key = [seed & 0xFFFFFFFF]
    for j in range(1, _N):
        prev = key[-1]
        key.append((1812433253 * (prev ^ (prev >> 30)) + j) & 0xFFFFFFFF)
    return np.array(key, dtype=np.uint32)


def _group_by_value(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sort positions by (t, position) for integer t in [0, len(t)]: returns the sorted
    values, the positions in that order, and prev[i] = largest j < i with t[j] == t[i] or -1."""
    n = t.size + 1
    ts, order = np.divmod(np.sort(t * n + np.arange(t.size)), n)  # unique keys: plain sort
    prev = np.full(t.shape, -1, np.int64)
    same = ts[1:] == ts[:-1]
    prev[order[1:][same]] = order[:-1][same]
    return ts, order, prev


def _resolve(link: np.ndarray) -> np.ndarray:
    """Follow link[i] (< i, or -1 for a root) down to the root, by pointer jumping."""
    ptr = np.where(link >= 0, link, np.arange(link.size))
    while True:
        nxt = ptr[ptr]
        if np.array_equal(nxt, ptr):
            return ptr
        ptr = nxt


def _swap_shuffle(n: int, z: np.ndarray) -> np.ndarray:
    """Result of `for i < n-1: swap(a[i], a[i + z[i]])` on a = arange(n), without a loop.

    Position i is final after step i and receives the value held at t[i] = i + z[i].  That
    value is t[i] itself unless an earlier step m targeted the same position, in which case it
    is what position m held just before step m, W[m]; W[m] in turn is m unless an earlier step
    targeted m.  Both lookups are "last earlier step with the same target"."""
    t = np.arange(n - 1) + z
    ts, order, prev = _group_by_value(t)
    # last[p] = latest step m < p with t[m] == p: the last of p's group, unless that is the
    # self-swap m == p, then the one before it
    end = np.append(ts[1:] != ts[:-1], True)
    m, p = order[end], ts[end]
    last = np.full(n, -1, np.int64)
    last[p] = np.where(m != p, m, prev[m])
    w = _resolve(last)
    out = np.empty(n, np.int64)
    out[: n - 1] = np.where(prev >= 0, w[np.maximum(prev, 0)], t)
    out[n - 1] = w[n - 1]
    return out


def _inside_out_shuffle(n: int, z: np.ndarray) -> np.ndarray:
    """Result of `for i < n: r[i] = r[z[i]]; r[z[i]] = i` (inside-out Fisher-Yates).

    Position p ends with the last step i that chose z[i] == p, if any; otherwise with what
    step p copied from z[p]: the latest earlier step that chose the same z (its index), or
    recursively what step z[p] wrote."""
    idx = np.arange(n)
    zs, order, prev = _group_by_value(z)
    link = np.where((z == idx) | (prev >= 0), -1, z)
    root_val = np.where(z == idx, idx, prev)
    a = root_val[_resolve(link)]
    end = np.append(zs[1:] != zs[:-1], True)
    chosen = np.full(n, -1, np.int64)  # last step i with z[i] == p
    chosen[zs[end]] = order[end]
    return np.where(chosen >= 0, chosen, a)


def _topk_stl(values: np.ndarray, k: int) -> list[int]:
    """Indices of torch.topk(values, k) (largest, sorted) on CPU, including the order of tied
    values (libstdc++'s algorithms, replayed in ``_ops.stl_order``)."""
    from ._ops.stl_order import _gt_or_nan, topk_line

    return topk_line([float(v) for v in values], k, _gt_or_nan)


# ---------------------------------------------------------------------------------------


def _bernoulli_dt(p_dtype):
    """The dtype bernoulli compares a p array in: float64 stays, any other is float32."""
    return _F64 if p_dtype == _F64 else np.float32


class Engine:
    """One PyTorch-compatible CPU generator state."""

    def __init__(self, seed: int = DEFAULT_SEED) -> None:
        self._bits = np.random.MT19937(0)
        self.manual_seed(seed)

    # -- state -----------------------------------------------------------------------------

    def manual_seed(self, seed: int) -> None:
        seed = int(seed)
        if -(1 << 63) <= seed < 0:  # torch reinterprets negative seeds as uint64
            seed += 1 << 64
        if not 0 <= seed < 1 << 64:
            raise ValueError("Overflow when unpacking long long")
        self._seed = seed
        self._bits.state = {"bit_generator": "MT19937",
                            "state": {"key": _init_key(seed), "pos": _N}}
        self._fresh = True  # torch stores next=0 (not 624) until the first twist
        self._normal_double: float | None = None  # second Box-Muller value of the scalar path
        self._normal_float: float | None = None  # torch's float cache: kept for get/set_state

    def seed(self) -> int:
        seed = secrets.randbits(64)
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        return self._seed

    # CPUGeneratorImplState: legacy pod {u64 seed; i32 left; i32 seeded; u64 next;
    # u64 state[624]; f64 normal_x, normal_y, normal_rho; i32 normal_is_valid} (+4 padding),
    # then {f32 next_float_normal_sample; bool valid} (+3 padding).
    _HEAD = struct.Struct("<QiiQ")
    _TAIL = struct.Struct("<3di4xf?3x")

    def get_state(self) -> np.ndarray:
        """torch.get_rng_state() bytes."""
        st = self._bits.state["state"]
        pos = int(st["pos"])
        left, nxt = (1, 0) if self._fresh else (_N + 1 - pos, pos)
        cached, cached_f = self._normal_double, self._normal_float
        tail = self._TAIL.pack(0.0, cached or 0.0, 0.0, cached is not None,
                               cached_f or 0.0, cached_f is not None)
        raw = self._HEAD.pack(self._seed, left, 1, nxt) + st["key"].astype("<u8").tobytes() + tail
        return np.frombuffer(raw, np.uint8).copy()

    def set_state(self, state: np.ndarray) -> None:
        """torch.set_rng_state(): accepts get_state() / torch.get_rng_state() bytes."""
        raw = np.asarray(state, np.uint8).tobytes()
        if len(raw) != _STATE_BYTES:
            raise RuntimeError(f"Expected a CPUGeneratorImplState of size {_STATE_BYTES} but found "
                               f"the input RNG state size to be {len(raw)}")
        seed, left, seeded, nxt = self._HEAD.unpack_from(raw, 0)
        if not (seeded and 0 < left <= _N and nxt <= _N):
            raise RuntimeError("Invalid mt19937 state")
        head = self._HEAD.size
        _, cached, _, valid, cached_f, valid_f = self._TAIL.unpack_from(raw, head + 8 * _N)
        key = np.frombuffer(raw, "<u8", _N, head).astype(np.uint32)  # torch keeps 32 bits
        self._seed = seed
        self._bits.state = {"bit_generator": "MT19937", "state": {"key": key, "pos": _N + 1 - left}}
        self._fresh = nxt == 0 and left == 1
        self._normal_double = cached if valid else None
        self._normal_float = cached_f if valid_f else None

    # -- raw draws -------------------------------------------------------------------------

    def _u32(self, n: int) -> np.ndarray:
        """n outputs of mt19937 (as uint64 holding 32 bits)."""
        if n:
            self._fresh = False
        return self._bits.random_raw(n)

    def _u64(self, n: int) -> np.ndarray:
        """n values of random64(): two draws, the first in the high half."""
        r = self._u32(2 * n)
        return (r[0::2] << _U64(32)) | r[1::2]

    def _unit_float(self, n: int) -> np.ndarray:
        """uniform_real_distribution<float>(0, 1): 24 random bits."""
        return (self._u32(n) & _U64(0xFFFFFF)).astype(np.float32) * _F(2.0**-24)

    def _unit_double(self, n: int) -> np.ndarray:
        """uniform_real_distribution<double>(0, 1): 53 random bits of random64()."""
        return (self._u64(n) & _MANT53).astype(np.float64) * 2.0**-53

    # -- uniform ---------------------------------------------------------------------------

    def rand(self, shape, dtype=np.float32) -> np.ndarray:
        return self.uniform(shape, 0.0, 1.0, dtype)

    def uniform(self, shape, low: float = 0.0, high: float = 1.0, dtype=np.float32) -> np.ndarray:
        """Tensor.uniform_(low, high)."""
        shape, n = _numel(shape)
        dt = _float_dtype(dtype)
        low, high = float(low), float(high)
        if not low <= high:
            raise RuntimeError(f"uniform_ expects to return a [from, to) range, "
                               f"but found from={low:g} > to={high:g}")
        if dt == _F64:
            x = self._unit_double(n)
            v = x if (low, high) == (0.0, 1.0) else _fma64(x, high - low, low)
        else:  # opmath float for float32, float16 and bfloat16
            x = self._unit_float(n)
            lo, hi = _F(low), _F(high)
            v = x if (low, high) == (0.0, 1.0) else _fma32(x, hi - lo, lo)
        v = v.astype(dt, copy=False)
        to, frm = _cast(np.array([high]), dt)[0], _cast(np.array([low]), dt)[0]
        return np.where(v == to, frm, v).astype(dt).reshape(shape)

    # -- normal ----------------------------------------------------------------------------

    def randn(self, shape, dtype=np.float32) -> np.ndarray:
        return self.normal(shape, 0.0, 1.0, dtype)

    def normal(self, shape, mean: float = 0.0, std: float = 1.0, dtype=np.float32,
               serial: bool = False) -> np.ndarray:
        """Tensor.normal_(mean, std) / torch.normal with scalar mean and std; ``serial``: the
        scalar kernel whatever the size (torch's for a non-contiguous tensor)."""
        shape, n = _numel(shape)
        dt = _float_dtype(dtype)
        mean, std = float(mean), float(std)
        if not std >= 0.0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
        if n < 16 or serial:  # scalar kernel: at::normal_distribution<double>
            return _cast(_fma64(self._normal_doubles(n), std, mean), dt).reshape(shape)
        body, tail = n // 16 * 16, n % 16
        if dt == _F64:
            out = self._unit_double(n)
            out[:body] = self._box_muller16_f64(out[:body], mean, std)
            if tail:  # recompute the last 16 values from fresh uniforms
                out[n - 16:] = self._box_muller16_f64(self._unit_double(16), mean, std)
            return out.reshape(shape)
        if dt == _F32:  # uniforms for the whole tensor first, then 16 more for the tail
            u = self._unit_float(n + (16 if tail else 0))
            out = _box_muller16_f32(u[:body], mean, std)
            if tail:
                out = np.concatenate([out, np.empty(tail, np.float32)])
                out[n - 16:] = _box_muller16_f32(u[n:], mean, std)
            return out.reshape(shape)
        # float16 / bfloat16: blocks of 16 uniforms generated block by block, so the tail
        # block uses the 16 draws right after the body, not after n draws
        u = self._unit_float(body + (16 if tail else 0))
        out = np.empty(n, np.float32)
        out[:body] = _box_muller16_f32(u[:body], mean, std)
        if tail:
            out[n - 16:] = _box_muller16_f32(u[body:], mean, std)
        return out.astype(dt).reshape(shape)

    @staticmethod
    def _box_muller16_f64(u: np.ndarray, mean: float, std: float) -> np.ndarray:
        """NormalFill16<double>: scalar libm code (std::log/cos/sin, std::fma)."""
        u = u.reshape(-1, 16)
        radius = np.sqrt(-2.0 * _glibc_log(1.0 - u[:, :8]))
        theta = (2.0 * math.pi) * u[:, 8:]
        out = np.concatenate([radius * np.cos(theta), radius * np.sin(theta)], axis=1).ravel()
        return out if (mean, std) == (0.0, 1.0) else _fma64(out, std, mean)

    def _normal_doubles(self, n: int) -> np.ndarray:
        """n standard normals from at::normal_distribution<double>: Box-Muller on two double
        uniforms, returns r*cos and caches r*sin for the next call."""
        out = np.empty(n, np.float64)
        if n == 0:
            return out
        start = 0
        if self._normal_double is not None:
            out[0], self._normal_double, start = self._normal_double, None, 1
        pairs = (n - start + 1) // 2
        u = self._unit_double(2 * pairs).reshape(pairs, 2)
        radius = np.sqrt(-2.0 * _glibc_log1p(-u[:, 1]))
        theta = (2.0 * math.pi) * u[:, 0]
        both = np.stack([radius * np.cos(theta), radius * np.sin(theta)], axis=1).ravel()
        out[start:] = both[: n - start]
        if (n - start) % 2:
            self._normal_double = float(both[-1])
        return out

    # -- integers --------------------------------------------------------------------------

    def randint(self, low: int, high: int, shape, dtype=np.int64) -> np.ndarray:
        """torch.randint(low, high, shape) / Tensor.random_(low, high)."""
        shape, n = _numel(shape)
        low, high = int(low), int(high)
        if low >= high:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', "
                               f"but got from={low} >= to={high}")
        span = high - low
        raw = self._u64(n) if span >= 1 << 28 else self._u32(n)
        v = ((raw % _U64(span)) + _U64(low % (1 << 64))).view(np.int64)
        dt = np.dtype(dtype)
        if dt in (_F16, _BF16):
            v = v.astype(np.float32)
        return v.astype(dt).reshape(shape)

    def randperm(self, n: int, dtype=np.int64) -> np.ndarray:
        n = int(n)
        dt = np.dtype(dtype)
        if n < 0:
            raise RuntimeError(f"n must be non-negative, got{n}")
        if dt.kind in "iu" and n - 1 > np.iinfo(dt).max:
            raise overflow(str(dt))
        if dt == _F16 and n > 2049:
            raise RuntimeError("n cannot be greater than 2049 for Half type.")
        if n < _RANDPERM_SMALL:
            if n < 2:
                perm = np.arange(n)
            else:
                z = (self._u32(n - 1) % np.arange(n, 1, -1, dtype=_U64)).astype(np.int64)
                perm = _swap_shuffle(n, z)
        else:
            z = (self._u64(n) % np.arange(1, n + 1, dtype=_U64)).astype(np.int64)
            perm = _inside_out_shuffle(n, z)
        return (perm.astype(np.float32) if dt in (_F16, _BF16) else perm).astype(dt)

    # -- other distributions ---------------------------------------------------------------

    def bernoulli(self, p, shape, dtype=np.float32) -> np.ndarray:
        """torch.bernoulli(p_tensor) (p an array, broadcast to shape) or Tensor.bernoulli_(p)
        (p a Python float).  A float64 or scalar p compares a double uniform, any other p
        dtype a float uniform."""
        shape, n = _numel(shape)
        if isinstance(p, np.ndarray) or np.ndim(p) > 0:
            p = np.broadcast_to(np.asarray(p), shape)
            hit = self.bernoulli_uniform(n, p.dtype) < p.astype(_bernoulli_dt(p.dtype)).ravel()
        else:
            p = float(p)
            if not 0.0 <= p <= 1.0:
                raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p:g}")
            hit = self._unit_double(n) < p
        return hit.astype(np.dtype(dtype)).reshape(shape)

    def bernoulli_uniform(self, n: int, p_dtype) -> np.ndarray:
        """The ``n`` uniforms bernoulli compares a p array with (in ``_bernoulli_dt(p)``)."""
        return self._unit_double(n) if p_dtype == _F64 else self._unit_float(n)

    def exponential(self, shape, lambd: float = 1.0, dtype=np.float32) -> np.ndarray:
        """Tensor.exponential_(lambd): -1/lambd * log1p(-u) in double."""
        shape, n = _numel(shape)
        dt = _float_dtype(dtype)
        lambd = float(lambd)
        if not lambd > 0.0:
            raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd:g}")
        v = (-1.0 / lambd) * _glibc_log1p(-self._unit_double(n))
        return _cast(v, dt).reshape(shape)

    def cauchy(self, shape, median=0.0, sigma=1.0, dtype=np.float32) -> np.ndarray:
        """Tensor.cauchy_(median, sigma): median + sigma * tan(pi * (u - 0.5)) in double."""
        shape, n = _numel(shape)
        dt = np.dtype(dtype)
        if dt not in _FLOATS:
            raise RuntimeError("Cauchy distribution is a continuous probability distribution. "
                               "dtype must be a floating point but you specified "
                               f"{meta_name(D.from_numpy(dt))}")
        median, sigma = float(median), float(sigma)
        if not sigma > 0.0:
            raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma:g}")
        v = median + sigma * _libm(math.tan, math.pi * (self._unit_double(n) - 0.5))
        return _cast(v, dt).reshape(shape)

    def log_normal(self, shape, mean=1.0, std=2.0, dtype=np.float32) -> np.ndarray:
        """Tensor.log_normal_(mean, std): exp of at::normal_distribution<double>, element by
        element (so it shares the scalar path's cached second value)."""
        shape, n = _numel(shape)
        dt = np.dtype(dtype)
        if dt not in _FLOATS:
            raise not_implemented("log_normal_cpu", dt)
        mean, std = float(mean), float(std)
        if not std > 0.0:
            raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std:g}")
        x = _fma64(self._normal_doubles(n), std, mean)
        with np.errstate(over="ignore"):
            v = np.exp(x)
        fine = np.abs(x) < 700.0  # math.exp raises OverflowError beyond
        v[fine] = _libm(math.exp, x[fine])
        return _cast(v, dt).reshape(shape)

    def geometric(self, shape, p: float, dtype=np.float32) -> np.ndarray:
        """Tensor.geometric_(p): ceil(log(u) / log1p(-p)) in double, any non-bool dtype."""
        shape, n = _numel(shape)
        dt = np.dtype(dtype)
        p = float(p)
        if not 0.0 < p < 1.0:
            raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p:g}")
        if dt == np.bool_ or dt.kind == "c":
            raise not_implemented("geometric_cpu", dt)
        with np.errstate(divide="ignore"):
            v = np.ceil(_glibc_log(self._unit_double(n)) / math.log1p(-p))
        if dt.kind in "iu":  # static_cast of the double: wraps as the C++ conversion does
            return v.astype(np.int64).astype(dt).reshape(shape)
        return _cast(v, dt).reshape(shape)

    def multinomial(self, probs: np.ndarray, num_samples: int,
                    replacement: bool = False) -> np.ndarray:
        """torch.multinomial for a 1-D or 2-D array of non-negative weights; int64 indices."""
        probs = np.asarray(probs)
        dt = _float_dtype(probs.dtype)
        if probs.ndim not in (1, 2):
            raise RuntimeError("prob_dist must be 1 or 2 dim")
        if dt == _F16:
            raise RuntimeError("multinomial is not implemented for half on CPU")
        num_samples = int(num_samples)
        if num_samples <= 0:
            raise RuntimeError("cannot sample n_sample <= 0 samples")
        rows = probs.reshape(-1, probs.shape[-1])
        n_cat = rows.shape[1]
        if not replacement and num_samples > n_cat:
            raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                               "replacement")
        out_shape = (num_samples,) if probs.ndim == 1 else (rows.shape[0], num_samples)
        if rows.size == 0:
            return np.empty(out_shape, np.int64)
        if not (np.all(rows >= 0) and np.all(np.isfinite(rows.astype(np.float32)))):
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        if np.any(rows.astype(np.float64).sum(axis=1) == 0):
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        if not replacement or num_samples == 1:
            # Gumbel-max in exponential form: argmax / topk of p / q with q ~ Exp(1)
            # torch's q is empty_like(probs): it fills in the stride order of probs
            if probs.ndim == 2 and min(probs.shape) > 1 and probs.strides[0] < probs.strides[1]:
                e = self.exponential(rows.shape[::-1], 1.0, dt).T
            else:
                e = self.exponential(rows.shape, 1.0, dt)
            q = (rows / e).astype(dt).astype(np.float64)
            if num_samples == 1:
                idx = np.argmax(q, axis=1)[:, None]  # first maximum, like torch.argmax
            else:  # topk; its order of tied values is libstdc++'s, replayed only if needed
                idx = np.stack([np.argsort(-r, kind="stable")[:num_samples]
                                if np.unique(r).size == r.size else _topk_stl(r, num_samples)
                                for r in q])
        else:
            acc = np.float32 if dt == _BF16 else dt  # cumulative sums in the kernel's type
            cum = np.cumsum(rows.astype(acc), axis=1, dtype=acc)
            cum = (cum / cum[:, -1:]).astype(acc)
            cum[:, -1] = 1
            u = self._unit_double(rows.shape[0] * num_samples).reshape(rows.shape[0], num_samples)
            idx = np.stack([np.searchsorted(c.astype(np.float64), r, side="left")
                            for c, r in zip(cum, u)])
        return idx.astype(np.int64).reshape(out_shape)


default_engine = Engine()
