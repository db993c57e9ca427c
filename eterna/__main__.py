from eterna.entrypoints.cli import main

main()
