from jtt_tui.cli import main

raise SystemExit(main())
