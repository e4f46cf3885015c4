"""CartPole-v1 stand-in: gymnasium's cart-pole dynamics (Euler), NumPy only."""
import math
import types
import numpy as np


class _CartPole:
    spec = types.SimpleNamespace(reward_threshold=60.0)

    def __init__(self):
        self.rng = np.random.default_rng(0)
        self.state = None
        self.steps = 0

    def reset(self, seed=None):
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        self.state = self.rng.uniform(-0.05, 0.05, size=4)
        self.steps = 0
        return self.state.astype(np.float32), {}

    def step(self, action):
        x, x_dot, th, th_dot = self.state
        force = 10.0 if action == 1 else -10.0
        c, s = math.cos(th), math.sin(th)
        temp = (force + 0.05 * th_dot ** 2 * s) / 1.1
        th_acc = (9.8 * s - c * temp) / (0.5 * (4.0 / 3.0 - 0.1 * c ** 2 / 1.1))
        x_acc = temp - 0.05 * th_acc * c / 1.1
        x, x_dot = x + 0.02 * x_dot, x_dot + 0.02 * x_acc
        th, th_dot = th + 0.02 * th_dot, th_dot + 0.02 * th_acc
        self.state = np.array([x, x_dot, th, th_dot])
        self.steps += 1
        done = bool(x < -2.4 or x > 2.4 or th < -0.2095 or th > 0.2095)
        return self.state.astype(np.float32), 1.0, done, self.steps >= 500, {}

    def render(self):
        pass


def make(name, render_mode=None):
    return _CartPole()
