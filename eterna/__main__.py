from eterna.cli import main

main()
