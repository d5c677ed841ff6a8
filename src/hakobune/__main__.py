from hakobune.cli import main

main()
