"""The course notebook's three exercises, solved with ndgrad standing in for torch.

    python -m ndgrad.examples.exercises

The code is plain PyTorch: replacing the import below by ``import torch`` runs it unchanged.
(The notebook's text has slips that are fixed here: v is a vector in R^d, the power method returns
the Rayleigh quotient vᵀAv rather than ‖v‖ = 1, torch returns Vh rather than V, the sigmoid is
1/(1+exp(-x)), and the network's output is W2 σ(W1 x + b1) + b2 as a whole.)"""

from __future__ import annotations

import ndgrad as torch


def power_method(A: torch.Tensor, k: int) -> torch.Tensor:
    """Largest eigenvalue of a positive semi-definite ``A`` after ``k`` power iterations."""
    v = torch.randn(A.shape[0], dtype=A.dtype)
    for _ in range(k):
        v = A @ v
        v = v / torch.linalg.norm(v)
    return v @ A @ v  # the Rayleigh quotient of the (unit) top eigenvector estimate


def best_rank_approximation(A: torch.Tensor, r: int) -> torch.Tensor:
    """The rank-``r`` matrix closest to ``A`` in Frobenius norm (Eckart–Young): truncated SVD."""
    U, S, Vh = torch.linalg.svd(A, full_matrices=False)
    return U[:, :r] @ torch.diag(S[:r]) @ Vh[:r, :]


def sigmoid_net_loss(params: list, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean of (y - (W2 σ(W1 x + b1) + b2))² over the rows of ``x``."""
    W1, b1, W2, b2 = params
    pred = torch.sigmoid(x @ W1.T + b1) @ W2 + b2
    return ((y - pred) ** 2).mean()


def train_sigmoid_net(x: torch.Tensor, y: torch.Tensor, hidden: int = 16, lr: float = 0.5,
                      steps: int = 200) -> tuple[list, list]:
    """Plain gradient descent θ ← θ - lr ∇f(θ) on the one-hidden-layer sigmoid network.

    Returns the parameters [W1, b1, W2, b2] and the loss before each step."""
    d = x.shape[1]
    W1 = (torch.randn(hidden, d) / d ** 0.5).requires_grad_()
    b1 = torch.zeros(hidden, requires_grad=True)
    W2 = (torch.randn(hidden) / hidden ** 0.5).requires_grad_()
    b2 = torch.zeros((), requires_grad=True)
    params = [W1, b1, W2, b2]
    losses = []
    for _ in range(steps):
        loss = sigmoid_net_loss(params, x, y)
        loss.backward()
        with torch.no_grad():  # the update itself must not be recorded
            for p in params:
                p -= lr * p.grad
                p.grad.zero_()  # .grad accumulates across backward calls
        losses.append(loss.item())
    return params, losses


def main() -> None:
    torch.manual_seed(0)
    X = torch.randn(10, 10)
    A = torch.matmul(X, X.T)
    print("power method:", power_method(A, k=100))
    print("eigvals:     ", max(torch.linalg.eigvals(A).real))

    M = torch.randn(8, 6)
    Mr = best_rank_approximation(M, 2)
    S = torch.linalg.svdvals(M)
    print("rank:", torch.linalg.matrix_rank(Mr).item(),
          "error²:", torch.linalg.norm(M - Mr, "fro").item() ** 2,
          "Σ_{i>r} s_i²:", S[2:].pow(2).sum().item())

    x = torch.randn(64, 3)
    y = torch.sin(x.sum(1))
    _, losses = train_sigmoid_net(x, y)
    print(f"loss {losses[0]:.4f} -> {losses[-1]:.4f} after {len(losses)} steps")


if __name__ == "__main__":
    main()
