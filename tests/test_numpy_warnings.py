"""NumPy's floating-point RuntimeWarnings: silent inside ndgrad (torch is silent), untouched
outside it (NumPy's error state and the user's own NumPy calls)."""

import subprocess
import sys

import numpy as np


def test_numpy_state_and_user_code_untouched():
    code = ("import numpy as np, warnings\n"
            "before = np.geterr()\n"
            "import ndgrad\n"
            "assert np.geterr() == before, (before, np.geterr())\n"
            "with warnings.catch_warnings(record=True) as w:\n"
            "    warnings.simplefilter('always')\n"
            "    np.log(np.zeros(1))\n"
            "assert any('divide by zero' in str(x.message) for x in w), w\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_ndgrad_ops_are_silent_like_torch():
    """In a fresh process: pytest imports ndgrad inside its own warnings context, which drops
    the filter on exit (pyproject's filterwarnings repeats it for the suite)."""
    code = ("import ndgrad as T\n"
            "x = T.tensor([0.0, -1.0, 1e30], requires_grad=True)\n"
            "y = T.log(x) + T.sqrt(x) + x / 0 + x * 1e30 + T.tensor(1e30) ** 40 + T.exp(x)\n"
            "y.sum().backward()\n"
            "T.tensor([0.0]).log_()\n")
    r = subprocess.run([sys.executable, "-W", "default", "-c", code], capture_output=True,
                       text=True, check=True)
    assert "RuntimeWarning" not in r.stderr, r.stderr
    assert np.geterr()["divide"] == "warn"
