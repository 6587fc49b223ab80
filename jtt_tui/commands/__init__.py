"""``jtt`` subcommands: each module registers its parsers and handlers.
Handlers print; the work is done by services."""
