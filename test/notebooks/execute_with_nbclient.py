"""Execute a notebook with nbclient (Jupyter's reference executor) and the tspool kernel.

usage: python3 execute_with_nbclient.py NOTEBOOK OUT [--timeout SECONDS] [--allow-errors]

The kernelspec is found through JUPYTER_PATH (the test installs it into a temporary prefix). The
kernel runs in the notebook's directory, as in Jupyter. Exit status 0 when every cell ran, 1 when
a cell failed (the partially executed notebook is still written), 2 for bad arguments.
"""
import argparse
import os
import sys

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("notebook")
    ap.add_argument("out")
    ap.add_argument("--timeout", type=int, default=120)
    ap.add_argument("--allow-errors", action="store_true")
    args = ap.parse_args()

    nb = nbformat.read(args.notebook, as_version=4)
    client = NotebookClient(
        nb,
        timeout=args.timeout,
        startup_timeout=60,
        kernel_name="tspool",
        allow_errors=args.allow_errors,
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(args.notebook))}},
    )
    status = 0
    try:
        client.execute()
    except CellExecutionError as e:
        print(f"nbclient: a cell failed:\n{e}", file=sys.stderr)
        status = 1
    nbformat.validate(nb)
    nbformat.write(nb, args.out)
    return status


if __name__ == "__main__":
    sys.exit(main())
