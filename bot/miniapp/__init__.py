"""The questionnaire as a Telegram Mini App (issue 14): one page, the same conversation
state, gates and submit as the chat.

``web.MiniApp`` is the web part (``GET /app/``, ``POST /app/api``), ``auth`` checks
Telegram's signed launch data, ``actions`` runs each request as a service event,
``links.app_url`` is where the buttons point, ``chat`` offers the page on /resume,
``texts`` holds the page's own words.
"""
