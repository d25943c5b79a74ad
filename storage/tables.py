"""Every table of the schema registered in ``SQLModel.metadata``: import this where the
whole schema matters (migrations, the schema check, tests over all tables). The area
modules own their tables; ``storage.models`` holds the core ones and imports none of them."""

from storage import (  # noqa: F401  (each registers its tables)
    digest_requests,  # digest_request
    draw,  # the draw, its pool and its withdrawn draws
    models,  # campaign, person, membership, conversation, ballots, outbox, links, lease …
    parked,  # parked_update
    rectification,  # evaluee contacts, notices, rectification rounds, follow-up
    rehearsal,  # minping_meta
    tally,  # tally, score_event, organizer_binding
)
