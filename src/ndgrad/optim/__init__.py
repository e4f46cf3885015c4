"""Same as torch.optim (filled in by the optim work)."""
