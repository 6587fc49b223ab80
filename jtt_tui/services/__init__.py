"""The use cases: what the app and the commands do with the store, Jira and
the settings (no Textual, no argparse here)."""
