"""Use cases: what an organizer command, a chat step or a scheduled job asks the product
to do, wired to the database and the outbox. Entries (``bot/chat``, ``bot/cli``,
``bot/jobs``) stay thin and call these.

So far the evaluee loop: the notice (``notice.py``), rectification rounds and their
reminders (``rectification.py``), the follow-up survey (``followup.py``); who may be
messaged, in which language (``audience.py``). Every proactive message goes through
``storage.outbox.enqueue`` in the caller's transaction with a ``dedupe_key``, and only to
people whose status is active. Nothing here logs or stores who gave which follow-up answer.
"""
