"""Same as torch.hub for checkpoints by URL: get_dir/set_dir, download_url_to_file,
load_state_dict_from_url (torch's cache layout, $TORCH_HOME/hub/checkpoints). The file is read
with ndgrad.load, so it must be a safetensors file (most hubs publish one); a PyTorch pickle
raises ndgrad.load's error, which says how to convert it. Offline, the download raises urllib's
URLError as torch's does. ``load``/``list``/``help`` run a GitHub repo's hubconf.py, written
for torch: they raise NotImplementedError."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
import uuid
from urllib.parse import urlparse
from urllib.request import Request, urlopen

__all__ = ["download_url_to_file", "get_dir", "help", "list", "load", "load_state_dict_from_url",
           "set_dir"]

HASH_REGEX = re.compile(r"-([a-f0-9]*)\.")
ENV_TORCH_HOME, ENV_XDG_CACHE_HOME, DEFAULT_CACHE_DIR = "TORCH_HOME", "XDG_CACHE_HOME", "~/.cache"
READ_DATA_CHUNK = 128 * 1024
_hub_dir: str | None = None


def get_dir() -> str:
    """Same as torch.hub.get_dir."""
    if _hub_dir is not None:
        return _hub_dir
    home = os.getenv(ENV_TORCH_HOME, os.path.join(os.getenv(ENV_XDG_CACHE_HOME, DEFAULT_CACHE_DIR),
                                                  "torch"))
    return os.path.join(os.path.expanduser(home), "hub")


def set_dir(d) -> None:
    """Same as torch.hub.set_dir."""
    global _hub_dir
    _hub_dir = os.path.expanduser(d)


def download_url_to_file(url: str, dst: str, hash_prefix: str | None = None,
                         progress: bool = True) -> None:
    """Same as torch.hub.download_url_to_file (no progress bar: ndgrad does not need tqdm)."""
    dst = os.path.expanduser(dst)
    tmp = f"{dst}.{uuid.uuid4().hex}.partial"
    sha256 = hashlib.sha256() if hash_prefix is not None else None
    try:
        with urlopen(Request(url, headers={"User-Agent": "torch.hub"})) as u, \
                open(tmp, "w+b") as f:
            while buffer := u.read(READ_DATA_CHUNK):
                f.write(buffer)
                if sha256 is not None:
                    sha256.update(buffer)
        if sha256 is not None:
            digest = sha256.hexdigest()
            if digest[:len(hash_prefix)] != hash_prefix:
                raise RuntimeError(f'invalid hash value (expected "{hash_prefix}", got '
                                   f'"{digest}")')
        shutil.move(tmp, dst)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def load_state_dict_from_url(url: str, model_dir: str | None = None, map_location=None,
                             progress: bool = True, check_hash: bool = False,
                             file_name: str | None = None, weights_only: bool = False):
    """Same as torch.hub.load_state_dict_from_url, for safetensors checkpoints (module doc)."""
    from .serialization import load

    if model_dir is None:
        model_dir = os.path.join(get_dir(), "checkpoints")
    os.makedirs(model_dir, exist_ok=True)
    filename = file_name if file_name is not None else os.path.basename(urlparse(url).path)
    cached_file = os.path.join(model_dir, filename)
    if not os.path.exists(cached_file):
        sys.stdout.write(f'Downloading: "{url}" to {cached_file}\n')
        match = HASH_REGEX.search(filename) if check_hash else None
        download_url_to_file(url, cached_file, match.group(1) if match else None, progress)
    return load(cached_file, map_location=map_location, weights_only=weights_only)


def _repo_code(*args, **kwargs):
    raise NotImplementedError("torch.hub.load/list/help run a repository's hubconf.py, which is "
                              "written for torch; build the model from its Python class and load "
                              "its weights with load_state_dict_from_url")


load = list = help = _repo_code  # noqa: A001
