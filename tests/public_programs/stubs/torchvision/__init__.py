"""A stand-in for torchvision, for running public programs offline (tests/public_programs).

Only what pytorch/examples and the beginner tutorials touch: datasets that make small seeded
random data of the real datasets' shapes (no download), the common transforms on NumPy images,
save_image/make_grid that write nothing, and a small vgg16. It imports ``torch`` lazily, so it
serves real torch and ndgrad-as-torch alike, with the same data for both.
"""

from . import datasets, models, transforms, utils  # noqa: F401

__version__ = "0.0.0-standin"
