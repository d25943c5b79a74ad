"""``python -m devtools.devserver --port 8081 --token 123:ABC``"""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
