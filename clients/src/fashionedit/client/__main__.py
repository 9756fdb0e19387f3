"""`python -m fashionedit.client` is the `fashionedit` command."""

from .cli import main

main()
