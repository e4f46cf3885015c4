"""torch.lobpcg: Locally Optimal Block Preconditioned Conjugate Gradient, ported from torch's
torch/_lobpcg.py (BSD-licensed, (c) PyTorch contributors) onto ndgrad's ops: the same "ortho"
(default) and "basic" iterations, the same initial X (torch.randn from the global generator, so
seeded runs give torch's numbers), the same tracker hook, and torch's backward (the symmetric
eigenproblem's derivative; for a partial eigenspace via the characteristic polynomial), which
needs B = None and a dense real A. Sparse A runs through ndgrad.sparse.mm."""

from __future__ import annotations

from . import linalg
from ._tensor import Tensor

__all__ = ["lobpcg"]


# --- torch._linalg_utils -------------------------------------------------------------------------
def _is_sparse(A) -> bool:
    return bool(getattr(A, "is_sparse", False))


def _matmul(A, B):
    if A is None:
        return B
    if _is_sparse(A):
        from .sparse import mm

        return mm(A, B)
    return A.matmul(B)


def _qform(A, S):
    return S.mT.matmul(_matmul(A, S))


def _basis(A):
    return linalg.qr(A).Q


def _symeig(A, largest=False):
    E, Z = linalg.eigh(A, UPLO="U")
    if largest:
        E, Z = E.flip(-1), Z.flip(-1)
    return E, Z


# --- backward ------------------------------------------------------------------------------------
def _symeig_backward_complete_eigenspace(D_grad, U_grad, A, D, U):
    from . import diag_embed, matmul

    F = D.unsqueeze(-2) - D.unsqueeze(-1)
    F.diagonal(dim1=-2, dim2=-1).fill_(float("inf"))
    F.pow_(-1)
    Ut = U.mT.contiguous()
    return matmul(U, matmul(diag_embed(D_grad) + matmul(Ut, U_grad) * F, Ut))


def _polynomial_coefficients_given_roots(roots):
    """(a_0, ..., a_n == 1) with prod_i (x - r_i) = sum_k a_k x^k."""
    poly_order = roots.shape[-1]
    shape = list(roots.shape)
    shape[-1] += 2
    poly_coeffs = roots.new_zeros(shape)
    poly_coeffs[..., 0] = 1
    poly_coeffs[..., -1] = 1
    for i in range(1, poly_order + 1):
        new = poly_coeffs.clone() if roots.requires_grad else poly_coeffs
        out = new.narrow(-1, poly_order - i, i + 1)
        out -= roots.narrow(-1, i - 1, 1) * poly_coeffs.narrow(-1, poly_order - i + 1, i + 1)
        poly_coeffs = new
    return poly_coeffs.narrow(-1, 1, poly_order + 1)


def _polynomial_value(poly, x, zero_power, transition):
    res = zero_power.clone()
    for k in range(poly.size(-1) - 2, -1, -1):
        res = transition(res, x, poly[..., k])
    return res


def _matrix_polynomial_value(poly, x):
    from . import eye

    def transition(cur, x, coeff):
        res = x.matmul(cur)
        res.diagonal(dim1=-2, dim2=-1).add_(coeff.unsqueeze(-1))
        return res

    zero_power = eye(x.size(-1), x.size(-1), dtype=x.dtype, device=x.device).view(
        *([1] * len(x.shape[:-2])), x.size(-1), x.size(-1))
    return _polynomial_value(poly, x, zero_power, transition)


def _vector_polynomial_value(poly, x):
    from . import addcmul

    return _polynomial_value(poly, x, x.new_ones(1).expand(x.shape),
                             lambda cur, x, c: addcmul(c.unsqueeze(-1), x, cur))


def _symeig_backward_partial_eigenspace(D_grad, U_grad, A, D, U, largest):
    from . import Generator, cholesky_solve, matmul, randn

    Ut = U.mT.contiguous()
    proj_U_ortho = -U.matmul(Ut)
    proj_U_ortho.diagonal(dim1=-2, dim2=-1).add_(1)
    gen = Generator(A.device)  # a fresh generator, as torch's: the global stream is untouched
    U_ortho = proj_U_ortho.matmul(randn((*A.shape[:-1], A.size(-1) - D.size(-1)),
                                        dtype=A.dtype, device=A.device, generator=gen))
    U_ortho_t = U_ortho.mT.contiguous()
    chr_poly_D = _polynomial_coefficients_given_roots(D)
    U_grad_projected = U_grad
    series_acc = U_grad_projected.new_zeros(U_grad_projected.shape)
    for k in range(1, chr_poly_D.size(-1)):
        poly_D = _vector_polynomial_value(chr_poly_D[..., k:], D)
        series_acc = series_acc + U_grad_projected * poly_D.unsqueeze(-2)
        U_grad_projected = A.matmul(U_grad_projected)
    chr_poly_D_at_A = _matrix_polynomial_value(chr_poly_D, A)
    to_U_ortho = matmul(U_ortho_t, matmul(chr_poly_D_at_A, U_ortho))
    sign = -1 if (largest and (k % 2 == 1)) else +1
    L = linalg.cholesky(sign * to_U_ortho)
    res = _symeig_backward_complete_eigenspace(D_grad, U_grad, A, D, U)
    return res - U_ortho.matmul(sign * cholesky_solve(U_ortho_t.matmul(series_acc), L)).matmul(Ut)


def _symeig_backward(D_grad, U_grad, A, D, U, largest):
    if U.size(-1) == U.size(-2):
        return _symeig_backward_complete_eigenspace(D_grad, U_grad, A, D, U)
    return _symeig_backward_partial_eigenspace(D_grad, U_grad, A, D, U, largest)


def _autograd_function():
    from .autograd import Function

    class LOBPCGAutogradFunction(Function):
        @staticmethod
        def forward(ctx, A, k, B, X, n, iK, niter, tol, largest, method, tracker,
                    ortho_iparams, ortho_fparams, ortho_bparams):
            A = A.contiguous() if not A.is_sparse else A
            D, U = _lobpcg(A, k, B, X, n, iK, niter, tol, largest, method, tracker,
                           ortho_iparams, ortho_fparams, ortho_bparams)
            ctx.save_for_backward(A, B, D, U)
            ctx.largest = largest
            return D, U

        @staticmethod
        def backward(ctx, D_grad, U_grad):
            A, B, D, U = ctx.saved_tensors
            if A.is_sparse or (B is not None and B.is_sparse and ctx.needs_input_grad[2]):
                raise ValueError("lobpcg.backward does not support sparse input yet. Note that "
                                 "lobpcg.forward does though.")
            if A.is_complex() or B is not None and B.is_complex():
                raise ValueError("lobpcg.backward does not support complex input yet. Note "
                                 "that lobpcg.forward does though.")
            if B is not None:
                raise ValueError("lobpcg.backward does not support backward with B != I yet.")
            largest = True if ctx.largest is None else ctx.largest
            if D_grad is None:
                D_grad = D.new_zeros(D.shape)
            if U_grad is None:
                U_grad = U.new_zeros(U.shape)
            return (_symeig_backward(D_grad, U_grad, A, D, U, largest),) + (None,) * 13

    return LOBPCGAutogradFunction


_FUNCTION = []


def lobpcg(A: Tensor, k: int | None = None, B: Tensor | None = None, X: Tensor | None = None,
           n: int | None = None, iK: Tensor | None = None, niter: int | None = None,
           tol: float | None = None, largest: bool | None = None, method: str | None = None,
           tracker=None, ortho_iparams: dict | None = None, ortho_fparams: dict | None = None,
           ortho_bparams: dict | None = None):
    """Same as torch.lobpcg: the k largest (or smallest) eigenpairs of the symmetric
    generalized problem A X = B X diag(E). Returns (E, X). Differentiable in A when B is None
    (A is symmetrised first, as torch does)."""
    if A.requires_grad or (B is not None and B.requires_grad):
        if not _FUNCTION:
            _FUNCTION.append(_autograd_function())
        A_sym = (A + A.mT) / 2
        B_sym = (B + B.mT) / 2 if B is not None else None
        return _FUNCTION[0].apply(A_sym, k, B_sym, X, n, iK, niter, tol, largest, method,
                                  tracker, ortho_iparams, ortho_fparams, ortho_bparams)
    return _lobpcg(A, k, B, X, n, iK, niter, tol, largest, method, tracker, ortho_iparams,
                   ortho_fparams, ortho_bparams)


lobpcg.__wrapped_by_argcheck__ = True  # torch's is Python: a non-tensor A fails with its own
#                                        AttributeError ('str' has no 'requires_grad'), as here


def _lobpcg(A, k=None, B=None, X=None, n=None, iK=None, niter=None, tol=None, largest=None,
            method=None, tracker=None, ortho_iparams=None, ortho_fparams=None,
            ortho_bparams=None):
    from . import empty, float16, float32, float64, randn, tensor

    if A.shape[-2] != A.shape[-1]:
        raise AssertionError(f"A must be square, got shape {A.shape}")
    if B is not None and A.shape != B.shape:
        raise AssertionError(f"A and B must have same shape, got {A.shape} vs {B.shape}")
    dtype = A.dtype if A.dtype in (float16, float32, float64) else float32
    device = A.device
    if tol is None:
        tol = {float32: 1.2e-07, float64: 2.23e-16}[dtype] ** 0.5
    m = A.shape[-1]
    k = (1 if X is None else X.shape[-1]) if k is None else k
    n = (k if n is None else n) if X is None else X.shape[-1]
    if m < 3 * n:
        raise ValueError(f"LOBPCG algorithm is not applicable when the number of A rows (={m})"
                         f" is smaller than 3 x the number of requested eigenpairs (={n})")
    method = "ortho" if method is None else method
    iparams = {"m": m, "n": n, "k": k, "niter": 1000 if niter is None else niter}
    fparams = {"tol": tol}
    bparams = {"largest": True if largest is None else largest}
    if method == "ortho":
        iparams.update(ortho_iparams or {})
        fparams.update(ortho_fparams or {})
        bparams.update(ortho_bparams or {})
        iparams.setdefault("ortho_i_max", 3)
        iparams.setdefault("ortho_j_max", 3)
        for key in ("ortho_tol", "ortho_tol_drop", "ortho_tol_replace"):
            fparams.setdefault(key, tol)
        bparams.setdefault("ortho_use_drop", False)
    if len(A.shape) > 2:
        N = int(tensor(list(A.shape[:-2])).prod())
        bA = A.reshape((N,) + tuple(A.shape[-2:]))
        bB = B.reshape((N,) + tuple(A.shape[-2:])) if B is not None else None
        bX = X.reshape((N,) + tuple(X.shape[-2:])) if X is not None else None
        bE = empty((N, k), dtype=dtype, device=device)
        bXret = empty((N, m, k), dtype=dtype, device=device)
        for i in range(N):
            X_ = randn((m, n), dtype=dtype, device=device) if bX is None else bX[i]
            if not (len(X_.shape) == 2 and tuple(X_.shape) == (m, n)):
                raise AssertionError(f"X_ shape mismatch: got {X_.shape}, expected {(m, n)}")
            iparams["batch_index"] = i
            worker = LOBPCG(bA[i], bB[i] if bB is not None else None, X_, iK, iparams,
                            fparams, bparams, method, tracker)
            worker.run()
            bE[i] = worker.E[:k]
            bXret[i] = worker.X[:, :k]
        return bE.reshape(tuple(A.shape[:-2]) + (k,)), bXret.reshape(tuple(A.shape[:-2]) + (m, k))
    X = randn((m, n), dtype=dtype, device=device) if X is None else X
    if not (len(X.shape) == 2 and tuple(X.shape) == (m, n)):
        raise AssertionError(f"X shape mismatch: got {X.shape}, expected {(m, n)}")
    worker = LOBPCG(A, B, X, iK, iparams, fparams, bparams, method, tracker)
    worker.run()
    return worker.E[:k], worker.X[:, :k]


class LOBPCG:
    """Worker class of LOBPCG methods (torch's, attribute for attribute, so trackers see the
    same state: iparams, fparams, bparams, ivars, fvars, bvars, tvars, A, B, X, E, R, S)."""

    def __init__(self, A, B, X, iK, iparams, fparams, bparams, method, tracker) -> None:
        from . import zeros

        self.A, self.B, self.iK = A, B, iK
        self.iparams, self.fparams, self.bparams = iparams, fparams, bparams
        self.method, self.tracker = method, tracker
        m, n = iparams["m"], iparams["n"]
        self.X = X
        self.E = zeros((n,), dtype=X.dtype, device=X.device)
        self.R = zeros((m, n), dtype=X.dtype, device=X.device)
        self.S = zeros((m, 3 * n), dtype=X.dtype, device=X.device)
        self.tvars: dict = {}
        self.ivars: dict = {"istep": 0}
        self.fvars: dict = {"_": 0.0}
        self.bvars: dict = {"_": False}

    def __str__(self):
        names = ("iparams", "fparams", "bparams", "ivars", "fvars", "bvars", "tvars", "A", "B",
                 "iK", "X", "E")
        return "LOBPCG:\n" + "".join(f"  {k}={getattr(self, k)}\n" for k in names)

    def update(self):
        from . import norm

        if self.ivars["istep"] == 0:
            X_norm = float(norm(self.X))
            iX_norm = X_norm ** -1
            self.fvars["X_norm"] = X_norm
            self.fvars["A_norm"] = float(norm(_matmul(self.A, self.X))) * iX_norm
            self.fvars["B_norm"] = float(norm(_matmul(self.B, self.X))) * iX_norm
            self.ivars["iterations_left"] = self.iparams["niter"]
            self.ivars["converged_count"] = 0
            self.ivars["converged_end"] = 0
        if self.method == "ortho":
            self._update_ortho()
        else:
            self._update_basic()
        self.ivars["iterations_left"] -= 1
        self.ivars["istep"] += 1

    def update_residual(self):
        self.R = _matmul(self.A, self.X) - _matmul(self.B, self.X) * self.E

    def update_converged_count(self):
        from . import norm

        prev_count = self.ivars["converged_count"]
        E, X, R = self.E, self.X, self.R
        rerr = norm(R, 2, (0,)) / (norm(X, 2, (0,)) * (
            self.fvars["A_norm"] + E[:X.shape[-1]].abs() * self.fvars["B_norm"]))
        count = 0
        for b in (rerr < self.fparams["tol"]).tolist():
            if not b:
                break
            count += 1
        if count < prev_count:
            raise AssertionError(f"the number of converged eigenpairs (was {prev_count}, got "
                                 f"{count}) cannot decrease")
        self.ivars["converged_count"] = count
        self.tvars["rerr"] = rerr
        return count

    def stop_iteration(self):
        return (self.bvars.get("force_stop", False) or self.ivars["iterations_left"] == 0
                or self.ivars["converged_count"] >= self.iparams["k"])

    def run(self):
        self.update()
        if self.tracker is not None:
            self.call_tracker()
        while not self.stop_iteration():
            self.update()
            if self.tracker is not None:
                self.call_tracker()

    def call_tracker(self):
        self.tracker(self)

    def _update_basic(self):
        ns, nc = self.ivars["converged_end"], self.ivars["converged_count"]
        n, largest = self.iparams["n"], self.bparams["largest"]
        if self.ivars["istep"] == 0:
            Ri = self._get_rayleigh_ritz_transform(self.X)
            E, Z = _symeig(_qform(_qform(self.A, self.X), Ri), largest)
            self.X[:] = self.X.matmul(Ri.matmul(Z))
            self.E[:] = E
            np_ = 0
            self.update_residual()
            nc = self.update_converged_count()
            self.S[..., :n] = self.X
            W = _matmul(self.iK, self.R)
            self.ivars["converged_end"] = ns = n + np_ + W.shape[-1]
            self.S[:, n + np_:ns] = W
        else:
            S_ = self.S[:, nc:ns]
            Ri = self._get_rayleigh_ritz_transform(S_)
            E_, Z = _symeig(_qform(_qform(self.A, S_), Ri), largest)
            self.X[:, nc:] = S_.matmul(Ri.matmul(Z[:, :n - nc]))
            self.E[nc:] = E_[:n - nc]
            P = S_.matmul(Ri.matmul(Z[:, n:2 * n - nc]))
            np_ = P.shape[-1]
            self.update_residual()
            nc = self.update_converged_count()
            self.S[..., :n] = self.X
            self.S[:, n:n + np_] = P
            W = _matmul(self.iK, self.R[:, nc:])
            self.ivars["converged_end"] = ns = n + np_ + W.shape[-1]
            self.S[:, n + np_:ns] = W

    def _update_ortho(self):
        ns, nc = self.ivars["converged_end"], self.ivars["converged_count"]
        n, largest = self.iparams["n"], self.bparams["largest"]
        if self.ivars["istep"] == 0:
            Ri = self._get_rayleigh_ritz_transform(self.X)
            _E, Z = _symeig(_qform(_qform(self.A, self.X), Ri), largest)
            self.X = self.X.matmul(Ri.matmul(Z))
            self.update_residual()
            np_ = 0
            nc = self.update_converged_count()
            self.S[:, :n] = self.X
            W = self._get_ortho(self.R, self.X)
            ns = self.ivars["converged_end"] = n + np_ + W.shape[-1]
            self.S[:, n + np_:ns] = W
        else:
            S_ = self.S[:, nc:ns]
            E_, Z = _symeig(_qform(self.A, S_), largest)
            self.X[:, nc:] = S_.matmul(Z[:, :n - nc])
            self.E[nc:] = E_[:n - nc]
            P = S_.matmul(Z[:, n - nc:].matmul(_basis(Z[:n - nc, n - nc:].mT)))
            np_ = P.shape[-1]
            self.update_residual()
            nc = self.update_converged_count()
            self.S[:, :n] = self.X
            self.S[:, n:n + np_] = P
            W = self._get_ortho(self.R[:, nc:], self.S[:, :n + np_])
            ns = self.ivars["converged_end"] = n + np_ + W.shape[-1]
            self.S[:, n + np_:ns] = W

    def _get_rayleigh_ritz_transform(self, S):
        SBS = _qform(self.B, S)
        d_row = SBS.diagonal(0, -2, -1) ** -0.5
        d_col = d_row.reshape(d_row.shape[0], 1)
        R = linalg.cholesky((SBS * d_row) * d_col, upper=True)
        return linalg.solve_triangular(R, d_row.diag_embed(), upper=True, left=False)

    def _get_svqb(self, U, drop: bool, tau: float):
        from . import where

        if U.numel() == 0:
            return U
        UBU = _qform(self.B, U)
        d = UBU.diagonal(0, -2, -1)
        nz = where(d.abs() != 0.0)
        if len(nz[0]) < len(d):
            U = U[:, nz[0]]
            if U.numel() == 0:
                return U
            UBU = _qform(self.B, U)
            d = UBU.diagonal(0, -2, -1)
        d_col = (d ** -0.5).reshape(d.shape[0], 1)
        E, Z = _symeig((UBU * d_col) * d_col.mT)
        t = tau * float(E.abs().max())
        if drop:
            keep = where(E > t)
            E, Z, d_col = E[keep[0]], Z[:, keep[0]], d_col[keep[0]]
        else:
            E[where(E < t)[0]] = t
        return (U * d_col.mT).matmul(Z * E ** -0.5)

    def _get_ortho(self, U, V):
        from . import eye, norm

        m = self.iparams["m"]
        tau_ortho, tau_drop = self.fparams["ortho_tol"], self.fparams["ortho_tol_drop"]
        tau_replace = self.fparams["ortho_tol_replace"]
        i_max, j_max = self.iparams["ortho_i_max"], self.iparams["ortho_j_max"]
        use_drop = self.bparams["ortho_use_drop"]
        for vkey in list(self.fvars):
            if vkey.startswith("ortho_") and vkey.endswith("_rerr"):
                self.fvars.pop(vkey)
        self.ivars.pop("ortho_i", 0)
        self.ivars.pop("ortho_j", 0)
        BV_norm = norm(_matmul(self.B, V))
        BU = _matmul(self.B, U)
        VBU = V.mT.matmul(BU)
        i = j = 0
        for i in range(i_max):
            U = U - V.matmul(VBU)
            drop, tau_svqb = False, tau_drop
            for j in range(j_max):
                if use_drop:
                    U = self._get_svqb(U, drop, tau_svqb)
                    drop, tau_svqb = True, tau_replace
                else:
                    U = self._get_svqb(U, False, tau_replace)
                if U.numel() == 0:
                    self.ivars["ortho_i"], self.ivars["ortho_j"] = i, j
                    return U
                BU = _matmul(self.B, U)
                UBU = U.mT.matmul(BU)
                R = UBU - eye(UBU.shape[-1], device=UBU.device, dtype=UBU.dtype)
                rerr = float(norm(R)) * float(norm(BU) * norm(U)) ** -1
                self.fvars[f"ortho_UBUmI_rerr[{i}, {j}]"] = rerr
                if rerr < tau_ortho:
                    break
            VBU = V.mT.matmul(BU)
            rerr = float(norm(VBU)) * float(BV_norm * norm(U)) ** -1
            self.fvars[f"ortho_VBU_rerr[{i}]"] = rerr
            if rerr < tau_ortho:
                break
            if m < U.shape[-1] + V.shape[-1]:
                B = self.B
                if B is None:
                    raise AssertionError("B must not be None")
                raise ValueError(f"Overdetermined shape of U: #B-cols(={B.shape[-1]}) >= "
                                 f"#U-cols(={U.shape[-1]}) + #V-cols(={V.shape[-1]}) must hold")
        self.ivars["ortho_i"], self.ivars["ortho_j"] = i, j
        return U
