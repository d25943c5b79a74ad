"""Tools for development, tests and benches, not part of the product: the local Bot API
server (``devtools.devserver``) and the demo. Only the CLI's dev commands (``minping demo``,
``minping devserver``), the tests and the benches import them (import-linter checks)."""
