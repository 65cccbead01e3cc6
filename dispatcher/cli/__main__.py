"""`python -m dispatcher.cli`: the same as the `xinfang` command."""

from dispatcher.cli import main

main()
