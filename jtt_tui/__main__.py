from jtt_tui.cmdclient import main

raise SystemExit(main())
