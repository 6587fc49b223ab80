from jtt_tui.entry import main

raise SystemExit(main())
