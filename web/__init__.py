"""The web console: the campaign as the people it is for see it, in Vietnamese, each account
kept to its own subtree. Pages are rendered on the server with the engine's Jinja2 environment
(templates/console/); every query is filtered by the account's subtree (web/scope.py)."""
