"""Jira: the REST client (``client``); pulling and pushing live in services/jira.py."""
