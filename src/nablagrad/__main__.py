from nablagrad.cli import main

raise SystemExit(main())
