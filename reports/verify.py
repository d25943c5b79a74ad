"""``minping verify``: the ballot chain, the chain recorded at close, and the recount."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from flows.campaign import Campaign
from reports import recount, tally
from storage import ballots, campaigns, rectification
from storage import tally as store


@dataclass
class Verification:
    chain: list[ballots.ChainProblem] = field(default_factory=list)
    sealed_chain: list[str] = field(default_factory=list)  # stored head/count vs now
    differences: list[recount.Difference] = field(default_factory=list)
    counts: list[str] = field(default_factory=list)  # ballots vs raters marked submitted
    recounted: bool = False  # False when there is no published tally to compare

    @property
    def ok(self) -> bool:
        return not (self.chain or self.sealed_chain or self.differences or self.counts)


def count_problems(session: Session, campaign_id: str) -> list[str]:
    """One ballot per rater who submitted, one follow-up answer per rater who answered:
    a ballot appended with a valid chain but no rater behind it (a double count) shows
    here, where the chain alone cannot see it."""
    problems = []
    for group, (cast, marked) in ballots.counts_by_group(session, campaign_id).items():
        if cast != marked:
            problems.append(f"rater group '{group}': {cast} ballots but {marked} raters marked as submitted")
    for rnd, answers, marked in rectification.followup_counts_of(session, campaign_id):
        if answers != marked:
            problems.append(f"follow-up of '{rnd.evaluee_key}' round {rnd.number}: {answers} answers but {marked} "
                            "raters marked as answered")
    return problems


def verify(session: Session, campaign: Campaign) -> Verification:
    counted = recount.Counted()  # the recount counts the rows the chain walk hashes
    result = Verification(chain=ballots.verify_chain(session, campaign.id, visit=counted.add),
                          counts=count_problems(session, campaign.id))
    row = campaigns.get_row(session, campaign.id)
    saved = store.load(session, campaign.id)
    if saved is not None:
        if saved.chain_count != row.chain_count or saved.chain_head != row.chain_head:
            result.sealed_chain.append(
                f"the chain recorded at close ({saved.chain_count} ballots, head {saved.chain_head[:12]}…) differs "
                f"from the campaign's chain now ({row.chain_count} ballots, head {row.chain_head[:12]}…)")
        published = tally.from_json(saved.data)
    elif tally.is_sealed(campaign, row):
        return result  # nothing published yet: only the chain can be checked
    else:
        published = tally.compute(session, campaign)
    result.differences = recount.compare(published, recount.recount(session, campaign, counted))
    result.recounted = True
    return result
