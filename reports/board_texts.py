"""The public board's words (zh, en). Column headers and score rules shared with the
report for people come from ``reports.report`` (``col.*``, ``rep.*``)."""

from __future__ import annotations

from flows.i18n import register

LOCALES = ("zh", "en")  # the board's languages; the first one's pages sit at the top


def prefix(locale: str) -> str:
    """Where a language's pages sit on the board ('' for the first, 'en/' …)."""
    return "" if locale == LOCALES[0] else f"{locale}/"


register({
    "pub.site": {"zh": "评议公开栏", "en": "Public board"},
    "pub.lang_other": {"zh": "English", "en": "中文"},
    "pub.nav": {"zh": "栏目", "en": "Sections"},
    "pub.nav_index": {"zh": "评议概况", "en": "The evaluation"},
    "pub.nav_draw": {"zh": "抽签", "en": "The draw"},
    "pub.nav_progress": {"zh": "回收进度", "en": "Progress"},
    "pub.nav_results": {"zh": "测评结果", "en": "Results"},
    "pub.nav_rectification": {"zh": "整改公开", "en": "Rectification"},
    "pub.nav_verify": {"zh": "核验", "en": "Verification"},
    "pub.footer": {"zh": "本页生成于 {at}（{tz}）。本站所有内容均来自本站，不加载任何外部资源。",
                   "en": "Page made {at} ({tz}). Everything on this site comes from this site; nothing is loaded "
                         "from elsewhere."},
    "pub.phase_upcoming": {"zh": "尚未开始：{opens} 开始评议。", "en": "Not open yet: opens {opens}."},
    "pub.phase_open": {"zh": "评议进行中：{closes} 结束。评议期间只公布回收进度。",
                       "en": "Open until {closes}. While open, only the progress is published."},
    "pub.phase_ended": {"zh": "评议时间已过，等待统一计票后公布结果。",
                        "en": "The evaluation period is over; results follow the count at close."},
    "pub.phase_closed": {"zh": "评议已结束，结果已公布。", "en": "Closed; the results are published."},
    "pub.five": {"zh": "本栏依照“五公开”公开：履职承诺、评议规则与过程、回收进度、测评结果、整改措施，并提供核验包供任何人复核。",
                 "en": "Published here, as the five publics require: duties and commitments, the rules and the "
                       "process, the progress, the results and the rectification plans, with a kit for anyone "
                       "to check them."},
    # campaign page
    "pub.evaluees": {"zh": "被评议对象及履职承诺", "en": "Who is evaluated: duties and commitments"},
    "pub.duties": {"zh": "职责", "en": "Duties"},
    "pub.commitments": {"zh": "承诺", "en": "Commitments"},
    "pub.duties_commitments": {"zh": "职责与承诺", "en": "Duties and commitments"},
    "pub.no_duties": {"zh": "未公布职责与承诺。", "en": "No duties or commitments published."},
    "pub.kind_unit": {"zh": "单位", "en": "Unit"},
    "pub.kind_person": {"zh": "个人", "en": "Person"},
    "pub.groups": {"zh": "评议层面、权重与抽样", "en": "Rater groups, weights and samples"},
    "pub.col_raters": {"zh": "参评人员", "en": "Raters"},
    "pub.col_rates": {"zh": "评议范围", "en": "Rates"},
    "pub.sample_n": {"zh": "从报名人员中随机抽取 {n} 人", "en": "{n} drawn at random from those enrolled"},
    "pub.sample_unit": {"zh": "按单位分别抽取，共 {n} 人", "en": "{n} drawn, per unit"},
    "pub.sample_open": {"zh": "开放参与，不抽签", "en": "Open to all, no draw"},
    "pub.sample_all": {"zh": "全体报名人员，不抽签", "en": "Everyone enrolled, no draw"},
    "pub.rates_all": {"zh": "全部被评议对象", "en": "Every evaluee"},
    "pub.rates_own": {"zh": "本单位", "en": "Their own unit"},
    "pub.weights_total": {"zh": "民主评议满分 {total} 分，按以上权重分配。", "en": "The democratic evaluation counts "
                                                                         "{total} points, split by these weights."},
    "pub.dimensions": {"zh": "评议内容", "en": "What is rated"},
    "pub.scale": {"zh": "评价等级", "en": "Scale"},
    "pub.col_level": {"zh": "等级", "en": "Level"},
    "pub.col_satisfied": {"zh": "计为满意", "en": "Counts as satisfied"},
    "pub.yes": {"zh": "是", "en": "yes"},
    "pub.no": {"zh": "否", "en": "no"},
    "pub.dont_know": {"zh": "“{label}”不计入有效答案。", "en": "“{label}” is not a valid answer and is not counted."},
    "pub.rules": {"zh": "计分规则", "en": "Scoring rules"},
    "pub.deductions": {"zh": "日常考核扣分项（基础分 {base} 分，扣完为止）", "en": "Daily assessment deductions (base "
                                                                          "{base}, floor 0)"},
    "pub.bonuses": {"zh": "加分项（只计最高一项）", "en": "Bonus (highest award only)"},
    "pub.timetable": {"zh": "时间安排", "en": "Timetable"},
    "pub.col_step": {"zh": "事项", "en": "Step"},
    "pub.col_when": {"zh": "时间", "en": "When"},
    "pub.t_commit": {"zh": "冻结报名池，公布假名名单和承诺值", "en": "Pools frozen; pseudonyms and commitment published"},
    "pub.t_reveal": {"zh": "揭晓抽签（公布随机种子和抽中名单）", "en": "Draw revealed (seed and drawn list published)"},
    "pub.t_opens": {"zh": "开始评议", "en": "Evaluation opens"},
    "pub.t_closes": {"zh": "结束评议", "en": "Evaluation closes"},
    "pub.t_results": {"zh": "统一计票，公布测评结果", "en": "Count at close; results published"},
    "pub.t_rect": {"zh": "整改期限", "en": "Rectification due"},
    "pub.t_rect_when": {"zh": "整改通知书发布后 {days} 天内", "en": "within {days} days of the notice"},
    "pub.t_followup": {"zh": "整改回访", "en": "Follow-up"},
    "pub.t_followup_when": {"zh": "期限届满后由评议人评价整改效果；满意率低于 {threshold} 的再整改（最多 {rounds} 轮）",
                            "en": "after the deadline the raters judge the result; below {threshold} satisfied, "
                                  "another round (at most {rounds})"},
    "pub.not_yet": {"zh": "尚未进行", "en": "not yet"},
    "pub.no_draw_step": {"zh": "不抽签（各层面开放参与）", "en": "no draw (every group is open)"},
    "pub.anonymity": {"zh": "匿名保护", "en": "Anonymity"},
    "pub.anon_envelope": {"zh": "评议表不记录评议人：提交时只记下“已提交”，答案装入不记名的“信封”；信封按批（每 {batch} 份或每 "
                                "{minutes} 分钟）打乱顺序后加入评议表哈希链，评议表的顺序和编号与提交先后无关。",
                          "en": "A ballot does not record its rater: submitting marks the rater as done and puts the "
                                "answers into an unnamed envelope; envelopes join the hash chain of ballots in shuffled "
                                "batches (every {batch} ballots or {minutes} minutes), so no order or number follows "
                                "who submitted when."},
    "pub.anon_groups": {"zh": "对某一对象有效评议表不足 {min} 份的评议层面，不公布它的任何数字，也不计入公布的满意率。"
                              "意见建议只转给被评议对象（已隐去个人信息），不在本栏公开。",
                        "en": "A rater group with fewer than {min} ballots for an evaluee is in no published figure, "
                              "not even the pooled rates. Opinions go to the evaluee only (personal data removed) "
                              "and are never published here."},
    "pub.anon_sealed": {"zh": "评议期间不公布任何结果，只公布各层面的回收进度；评议结束后统一计票，一次公布（集中启封）。",
                        "en": "No result is published while the evaluation is open, only the progress per group; "
                              "the ballots are counted once at close and published then."},
    "pub.draw_how": {"zh": "抽签办法", "en": "How the draw works"},
    "pub.draw_how_text": {"zh": "报名截止后冻结报名池：每位报名人只以假名（16 位十六进制）出现。先公布假名名单、各层面抽取人数和"
                                "承诺值（随机种子、名单摘要和一次尚未开奖的公开开奖的 SHA-256），开奖后揭晓种子：抽签种子由随机种子和开奖结果共同决定，"
                                "承诺时任何人（包括组织方）都无法预知；按 HMAC-SHA256(抽签种子, 假名) 排序，取前若干名；"
                                "未提交者由其后各名依次补抽。本单位层面按单位分别抽取。任何人都可用公布的文件复核。",
                          "en": "When enrolment ends the pools are frozen; each person appears only as a pseudonym "
                                "(16 hex digits). The pseudonyms, the sample sizes and the commitment (SHA-256 of the "
                                "seed, the pool digest and a public lottery draw that has not happened yet) are "
                                "published first; after that draw the seed is revealed: the draw seed combines it with "
                                "the lottery's result, which nobody (the organizers included) could know at the "
                                "commitment; each pool is ordered by HMAC-SHA256(draw seed, pseudonym) and the first "
                                "ones are drawn; replacements "
                                "are the next ones in that order. Own-unit groups are drawn per unit. Anyone can "
                                "check it from the published files."},
    # draw page
    "pub.draw_title": {"zh": "抽签公开", "en": "The draw, published"},
    "pub.no_draw": {"zh": "本次评议各层面均开放参与，不抽签。", "en": "Every rater group is open: there is no draw."},
    "pub.not_committed": {"zh": "报名池尚未冻结。冻结后在此公布假名名单和承诺值，揭晓后公布随机种子和抽中名单。",
                          "en": "The pools are not frozen yet. Then the pseudonyms and the commitment are published "
                                "here, and after the reveal the seed and the drawn list."},
    "pub.commit": {"zh": "承诺", "en": "Commitment"},
    "pub.commitment": {"zh": "承诺值", "en": "Commitment"},
    "pub.pool_digest": {"zh": "名单摘要", "en": "Pool digest"},
    "pub.committed_at": {"zh": "公布时间", "en": "Committed at"},
    "pub.procedure": {"zh": "程序", "en": "Procedure"},
    "pub.pools": {"zh": "报名池（假名）", "en": "The pools (pseudonyms)"},
    "pub.col_stratum": {"zh": "层面", "en": "Group"},
    "pub.col_sample": {"zh": "抽取人数", "en": "Sample"},
    "pub.col_pool": {"zh": "报名池人数", "en": "Pool"},
    "pub.pool_list": {"zh": "{stratum}：{n} 个假名", "en": "{stratum}: {n} pseudonyms"},
    "pub.download": {"zh": "下载 {file}", "en": "Download {file}"},
    "pub.randomness": {"zh": "公开随机数", "en": "Public randomness"},
    "pub.randomness_none": {"zh": "本次抽签没有使用公开随机数：随机种子由组织方在冻结名单时生成，并以承诺值锁定"
                                  "（组织方本可多次生成种子、只公布合意的一个）。",
                            "en": "This draw uses no public randomness (the organizers could have tried seeds and "
                                  "published only one that suited them): the seed was made by the organizers when the "
                                  "pools were frozen and bound by the commitment."},
    "pub.beacon": {"zh": "事先公布的公开开奖", "en": "The public draw announced in advance"},
    "pub.beacon_value": {"zh": "开奖结果", "en": "Its result"},
    "pub.beacon_pending": {"zh": "尚未开奖：揭晓时录入，承诺时无人能知道", "en": "not drawn yet: entered at the reveal, "
                                                                       "unknown to anyone at the commitment"},
    "pub.beacon_canonical": {"zh": "规范形式", "en": "Canonical form"},
    "pub.draw_seed": {"zh": "抽签种子 = SHA-256(随机种子 + 规范形式)", "en": "Draw seed = SHA-256(seed + canonical form)"},
    "pub.reveal": {"zh": "揭晓", "en": "The reveal"},
    "pub.seed": {"zh": "随机种子", "en": "Seed"},
    "pub.revealed_at": {"zh": "揭晓时间", "en": "Revealed at"},
    "pub.not_revealed": {"zh": "尚未揭晓。", "en": "Not revealed yet."},
    "pub.drawn": {"zh": "抽中名单（假名）", "en": "Drawn (pseudonyms)"},
    "pub.round": {"zh": "第 {n} 轮", "en": "Round {n}"},
    "pub.withdrawn": {"zh": "已撤回的承诺", "en": "Withdrawn commitments"},
    "pub.withdrawn_note": {"zh": "揭晓前撤回的承诺连同其种子、当时的假名名单（见 pool.json）和所指定的公开开奖一并公布："
                                 "开奖后任何人都可算出那次抽签本会抽中谁；在指定开奖之后撤回，其所回避的结果一目了然。",
                           "en": "A commitment withdrawn before its reveal is published with its seed, its pools (in "
                                 "pool.json) and the public draw it named: once that draw is held anyone can compute "
                                 "whom it would have chosen, so a withdrawal after its public draw shows what it "
                                 "avoided."},
    "pub.withdrawn_at": {"zh": "撤回时间", "en": "Withdrawn at"},
    "pub.reason": {"zh": "理由", "en": "Reason"},
    "pub.check": {"zh": "如何核对", "en": "How to check"},
    "pub.check_1": {"zh": "下载 pool.json 和 drawn.json，核对其中的假名与本页一致。",
                    "en": "Download pool.json and drawn.json; their pseudonyms are the ones on this page."},
    "pub.check_2": {"zh": "名单摘要 = 各层面排序后假名名单的规范 JSON 的 SHA-256；承诺值 = SHA-256(种子 + 换行 + 名单摘要"
                          " + 换行 + 公开开奖名称)。两者都应与先前公布的一致；开奖结果应与开奖机构的公告一致。",
                    "en": "Pool digest = SHA-256 of the canonical JSON of the sorted pseudonyms per group; commitment "
                          "= SHA-256(seed + newline + pool digest + newline + the public draw's name). Both must equal "
                          "what was published before, and the public draw's result what its organizer announced."},
    "pub.check_3": {"zh": "抽签种子 = SHA-256(种子 + 换行 + 开奖结果的规范形式)（未使用公开开奖时即为种子）。每个层面按 "
                          "HMAC-SHA256(密钥 = 抽签种子, 消息 = 假名) 的十六进制值排序：前若干名为第 1 轮，补抽依次取其后各名。",
                    "en": "Draw seed = SHA-256(seed + newline + the canonical form of the public draw's result) (the "
                          "seed itself without a public draw). Order each group by the hex of HMAC-SHA256(key = draw "
                          "seed, message = pseudonym): the first ones are round 1, replacements the next ones."},
    "pub.check_4": {"zh": "或运行下面的命令，输出 MATCH 即一致；也可使用核验包中的独立核验程序。",
                    "en": "Or run the command below: MATCH means it agrees. The standalone verifier of the kit "
                          "checks it too."},
    # progress page
    "pub.progress_note": {"zh": "评议期间只公布各评议层面的回收进度：抽中者中已提交的人数 ÷ 抽中人数。测评结果在评议结束后公布。",
                          "en": "While open only the progress per rater group is published: drawn raters who "
                                "submitted ÷ drawn. Results are published after close."},
    "pub.as_of": {"zh": "统计时间：{at}", "en": "As of {at}"},
    "pub.col_submitted": {"zh": "已提交", "en": "Submitted"},
    "pub.col_drawn": {"zh": "抽中人数", "en": "Drawn"},
    "pub.col_rate": {"zh": "回收率", "en": "Response rate"},
    "pub.not_drawn": {"zh": "尚未抽签", "en": "not drawn yet"},
    "pub.open_group": {"zh": "开放参与：评议表份数", "en": "open group: ballots"},
    "pub.after_service": {"zh": "另有一事一评 {n} 份", "en": "plus {n} after-service"},
    # results
    "pub.results_sealed": {"zh": "测评结果尚未公布：评议结束、统一计票后在此公布。评议期间只公布回收进度。",
                           "en": "No results yet: they are published here after the count at close. While open "
                                 "only the progress is published."},
    "pub.public_rule": {"zh": "为保护评议人，本栏所有数字只统计对该对象有效评议表不少于 {min} 份的评议层面；"
                              "不足 {min} 份的层面只列名称，不计入任何数字（包括满意率）。意见建议不公开。",
                        "en": "To protect the raters, every figure here counts only the rater groups with at least "
                              "{min} ballots for the evaluee; a smaller group is named but in no figure (not in the "
                              "rates either). Opinions are not published."},
    "pub.evaluee_pages": {"zh": "各对象详情", "en": "Per evaluee"},
    "pub.voting": {"zh": "计分层面：{groups}", "en": "Voting groups: {groups}"},
    "pub.not_voting": {"zh": "未计分层面（有效评议表不足 {min} 份）：{groups}",
                       "en": "Groups not voting (fewer than {min} ballots): {groups}"},
    "pub.none": {"zh": "无", "en": "none"},
    "pub.see_rect": {"zh": "整改措施见整改公开。", "en": "The rectification plans are on the rectification page."},
    "pub.back": {"zh": "返回测评结果", "en": "Back to the results"},
    # rectification
    "pub.rect_note": {"zh": "公开每个对象针对评议意见制定的整改措施（措施、责任人、时限、状态）和各轮整改回访满意度。"
                            "意见原文不公开，只公开回应它们的整改措施。",
                      "en": "Each evaluee's plans answering the opinions (measure, owner, deadline, state) and the "
                            "follow-up satisfaction of each round. The opinions themselves are not published, only "
                            "the plans that answer them."},
    "pub.rect_before": {"zh": "整改措施在评议结束、发布整改通知书后公布。", "en": "Plans are published after close, "
                                                                       "once the notices are out."},
    # verification
    "pub.verify_intro": {"zh": "任何人都可以不依赖本系统和它的数据库，复核抽签、评议表和公布的每一个数字。",
                         "en": "Anyone can check the draw, the ballots and every published figure without this "
                               "system or its database."},
    "pub.kit": {"zh": "核验包", "en": "The verification kit"},
    "pub.kit_text": {"zh": "核验包包括：报名池名单、承诺值、公开随机数、抽中名单、评议表日志（每份评议表的答案、意见的哈希值和链上哈希，"
                           "不含意见原文）、结束时记录的链尾哈希和份数、评议方案文件、公布的各项数字，以及一个只需 Python 3 的独立核验程序。",
                     "en": "The kit holds the pools, the commitment, the public randomness, the drawn lists, the "
                           "ballot log (each ballot's answers, its opinions' hashes only, its chain hashes), the chain "
                           "head and count recorded at close, the campaign file, the published figures, and a "
                           "standalone verifier that needs only Python 3."},
    "pub.kit_link": {"zh": "下载核验包（kit.zip）", "en": "Download the kit (kit.zip)"},
    "pub.kit_none": {"zh": "本次评议的哈希链早于核验包格式（意见原文计入了哈希），无法在不公开意见的情况下核验，因此不提供核验包。",
                     "en": "This campaign's ballot chain predates the kit (it hashes the opinions' text), so it cannot "
                           "be checked without publishing opinions; no kit is offered."},
    "pub.kit_run": {"zh": "下载后运行独立核验程序：它从核验包重新计算抽签、哈希链、份数和每个公布的数字，输出 MATCH 或每一处差异。",
                    "en": "Run its standalone verifier: it recomputes the draw, the chain, the counts and every "
                          "published figure from the kit alone and prints MATCH or each difference."},
    "pub.kit_later": {"zh": "核验包在评议结束后提供。", "en": "The kit is provided after close."},
    "pub.chain": {"zh": "评议表哈希链", "en": "The ballot chain"},
    "pub.chain_closed": {"zh": "结束时记录：{n} 份评议表，链尾哈希", "en": "Recorded at close: {n} ballots, chain head"},
    "pub.chain_open": {"zh": "评议结束时在此公布评议表哈希链的份数和链尾哈希。", "en": "The chain's count and head are "
                                                                         "published here at close."},
    "pub.verify_draw": {"zh": "抽签的复核办法见抽签公开。", "en": "How to check the draw: see the draw page."},
})
