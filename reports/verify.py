"""``minping verify``: the ballot chain, the chain recorded at close, and the recount."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from flows.campaign import Campaign
from reports import recount, tally
from storage import ballots, campaigns
from storage import tally as store


@dataclass
class Verification:
    chain: list[ballots.ChainProblem] = field(default_factory=list)
    sealed_chain: list[str] = field(default_factory=list)  # stored head/count vs now
    differences: list[recount.Difference] = field(default_factory=list)
    recounted: bool = False  # False when there is no published tally to compare

    @property
    def ok(self) -> bool:
        return not (self.chain or self.sealed_chain or self.differences)


def verify(session: Session, campaign: Campaign) -> Verification:
    data = ballots.load_chain(session, campaign.id)  # read once: chain walk and recount
    result = Verification(chain=ballots.verify_chain(session, campaign.id, data))
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
    result.differences = recount.compare(published, recount.recount(session, campaign, data))
    result.recounted = True
    return result
