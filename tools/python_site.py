"""Prints the directory `make install` puts the Python package in, for the prefix given as the
argument: the first directory of this Python's sys.path that lies in the prefix's lib/ (Debian:
/usr/local/lib/python3.X/dist-packages for /usr/local, /usr/lib/python3/dist-packages for /usr),
so that the installed package imports without PYTHONPATH; else the prefix's standard
site-packages (lib/python3.X/site-packages), which then needs PYTHONPATH."""
import os
import sys
import sysconfig


def main():
    prefix = os.path.abspath(sys.argv[1])
    lib = os.path.join(prefix, "lib") + os.sep
    for d in sys.path:
        if d and os.path.abspath(d).startswith(lib) and \
                os.path.basename(d) in ("dist-packages", "site-packages"):
            print(os.path.abspath(d))
            return
    print(sysconfig.get_path("purelib", "posix_prefix", {"base": prefix, "platbase": prefix}))


main()
