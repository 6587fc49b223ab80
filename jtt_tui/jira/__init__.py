"""Jira: the REST client (``client``); searching and pulling live in
services/jira_search.py, pushing in services/jira_plan.py and jira_push.py."""
