"""What `make demo` runs: every example in this folder, in order."""

import pathlib
import runpy
import sys

HERE = pathlib.Path(__file__).parent
EXAMPLES = ["basics.py", "derivatives.py", "ode_fit.py", "ode_batch_fit.py"]

if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    for name in EXAMPLES:
        print(f"\n######## examples/{name}\n")
        runpy.run_path(str(HERE / name), run_name="__main__")
