# ansible-test bootstraps pip in its sanity venvs with a get-pip script downloaded from a host that is not
# reachable from our build machines. This stand-in does the same job with the standard library: ensurepip, then
# `pip install` with the arguments ansible-test passes (the pinned pip version). `make sanity` copies it to
# ~/.ansible/test/cache/get_pip_<version>.py when that file is missing.
import subprocess
import sys

# ensurepip in a child: in-process it sets PIP_CONFIG_FILE=/dev/null, which would hide the host's pip.conf (CA).
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
# --no-setuptools/--no-wheel are get-pip options, not pip ones
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install"] + args))
