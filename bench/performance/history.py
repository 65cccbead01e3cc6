"""Years of stored history, generated in bulk with SQL: `cases` with their `events`, `clocks`
and `case_parties` rows, as xinfang itself would have written them.

Realistic in what the intake and routing of a new case read: districts and categories with the
demo sample's weights (dispatcher/demo/sample.py), titles and contents from the sample's own
generator for the case's category, a fixed number of cases a day (so that 10× the cases is 10×
the days of history), all received before the day the new cases arrive. Cases received in the
last 30 days are open (assigned for the last 7, else accepted), as is 1 % of the older ones
that never closed; the rest are closed. Each petitioner is a different person (an ID number and
a phone, as keyed hashes) so that no new case is a repeat of a stored one.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import Engine, text

from dispatcher.demo.sample import CATEGORIES, CHANNEL_SHARES, DISTRICTS, SOURCES, generate

OPEN_DAYS = 30
ASSIGNED_DAYS = 7
STALE_EVERY = 100  # 1 % of the older cases stayed open
TEXTS_PER_CATEGORY = 8


def _weighted(pairs: list[tuple[str, int]]) -> list[str]:
    return [value for value, weight in pairs for _ in range(weight)]


REGIONS = _weighted([(code, weight) for code, _name, weight in DISTRICTS])
CATEGORY_DRAW = _weighted(list(CATEGORIES.items()))
CHANNEL_DRAW = _weighted(list(CHANNEL_SHARES.items()))
SOURCE_DRAW = [SOURCES[channel][0][0] for channel in CHANNEL_DRAW]


def _texts() -> list[dict[str, object]]:
    """TEXTS_PER_CATEGORY (title, content) pairs of each category, from the sample's generator."""
    by_category: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for case in generate(count=1500, seed=2718):
        category = case.get("category")
        if category and len(by_category[category]) < TEXTS_PER_CATEGORY:
            by_category[category].append((case["title"], case["content"]))
    return [
        {"category": category, "n": n, "title": title, "content": content}
        for category, pairs in by_category.items()
        for n, (title, content) in enumerate(pairs)
    ]


HISTORY = text(
    """
create temp table history on commit drop as
select g,
       md5('case' || g)::uuid::text as case_id,
       'H' || lpad(g::text, 10, '0') as external_id,
       received_at,
       (cast(:regions as text[]))[1 + ((hashtext('r' || g)::bigint + 2147483648) % :regions_n)]
           as region,
       (cast(:categories as text[]))[
           1 + ((hashtext('c' || g)::bigint + 2147483648) % :categories_n)] as category,
       (cast(:channels as text[]))[1 + g % :channels_n] as channel,
       (cast(:sources as text[]))[1 + g % :channels_n] as source,
       case when received_at > :end - :assigned_days * interval '1 day' then 'assigned'
            when received_at > :end - :open_days * interval '1 day' or g % :stale_every = 0
                then 'accepted'
            else 'closed' end as stage,
       received_at + interval '2 minutes' as registered_at,
       received_at + interval '3 minutes' as assigned_at
from generate_series(1, :count) as g,
     lateral (select :end - g * (86400.0 / :per_day) * interval '1 second' as received_at) as r
"""
)
TEXTS = text("create temp table texts (category text, n int, title text, content text)")
ADD_TEXT = text("insert into texts values (:category, :n, :title, :content)")
CASES = text(f"""
insert into cases (case_id, source, external_id, channel, region, category, title, content,
                   petitioner, people_count, urgent, attachments, extra, received_at,
                   registered_at, stage, org_unit_id, org_unit_name, org_kind, rule_id,
                   rule_reasons, rule_warnings, ruleset_version, assigned_at, kind, policy)
select h.case_id, h.source, h.external_id, h.channel, h.region, h.category, t.title,
       t.content || '（档案号' || h.external_id || '）',
       json_build_object('name', '历史来访人',
                         'phone', '139' || lpad((h.g % 100000000)::text, 8, '0')),
       1, false, '[]', '{{}}', h.received_at, h.registered_at, h.stage,
       h.region || ':' || h.category, '历史承办单位', h.category, 'category-' || h.category,
       '[]', '[]', 'history', h.assigned_at, 'original', 'cn-2022'
from history h join texts t on t.category = h.category and t.n = h.g % {TEXTS_PER_CATEGORY}
""")
EVENTS = text("""
insert into events (event_id, type, case_id, source, external_id, at, data, published_at)
select md5('registered' || g)::uuid::text, 'registered', case_id, source, external_id,
       registered_at,
       json_build_object('channel', channel, 'region', region, 'category', category,
                         'received_at', received_at, 'people_count', 1, 'urgent', false),
       registered_at
from history
union all
select md5('assigned' || g)::uuid::text, 'assigned', case_id, source, external_id, assigned_at,
       json_build_object('outcome', 'assigned',
                         'org_unit', json_build_object('id', region || ':' || category,
                                                       'name', '历史承办单位', 'kind', category),
                         'rule', json_build_object('id', 'category-' || category,
                                                   'reasons', '[]'::json,
                                                   'ruleset_version', 'history'),
                         'warnings', '[]'::json, 'policy', 'cn-2022', 'priority', 'normal'),
       assigned_at
from history
union all
select md5('closed' || g)::uuid::text, 'closed', case_id, source, external_id,
       assigned_at + interval '40 days', json_build_object('satisfied', true),
       assigned_at + interval '40 days'
from history where stage = 'closed'
""")
CLOCKS = text("""
insert into clocks (case_id, name, started_at, due_at, met_at, status, article, updated_at,
                    period, ladder, next_step, next_step_at)
select case_id, 'forwarding', received_at, received_at + interval '15 days', assigned_at, 'met',
       'Art 22', assigned_at, 'history/0', 'period-15d', null, null
from history
union all
select case_id, 'acceptance', assigned_at, assigned_at + interval '15 days',
       case when stage = 'assigned' then null else assigned_at + interval '3 days' end,
       case when stage = 'assigned' then 'running' else 'met' end,
       'Art 23', assigned_at, 'history/0', 'period-15d',
       case when stage = 'assigned' then 'warning' end,
       case when stage = 'assigned' then assigned_at + interval '13 days' end
from history
union all
select case_id, 'handling', assigned_at + interval '3 days', assigned_at + interval '63 days',
       case when stage = 'closed' then assigned_at + interval '40 days' end,
       case when stage = 'closed' then 'met' else 'running' end,
       'Art 34', assigned_at + interval '3 days', 'history/0', 'period-60d',
       case when stage = 'accepted' then 'warning' end,
       case when stage = 'accepted' then assigned_at + interval '60 days' end
from history where stage <> 'assigned'
""")
PARTIES = text("""
insert into case_parties (case_id, party_key, key_kind, role, added_at)
select case_id, md5('id' || g) || md5('id-' || g), 'id_number', 'primary', registered_at
from history
union all
select case_id, md5('phone' || g) || md5('phone-' || g), 'phone', 'primary', registered_at
from history
""")


def fill(engine: Engine, count: int, per_day: float, end: datetime) -> None:
    """`count` cases received at `per_day` a day before `end`, with their rows; then VACUUM
    ANALYZE and a CHECKPOINT."""
    with engine.begin() as conn:
        conn.execute(text("set local synchronous_commit = off"))
        conn.execute(TEXTS)
        conn.execute(ADD_TEXT, _texts())
        conn.execute(
            HISTORY,
            {
                "count": count,
                "per_day": per_day,
                "end": end,
                "assigned_days": ASSIGNED_DAYS,
                "open_days": OPEN_DAYS,
                "stale_every": STALE_EVERY,
                "regions": REGIONS,
                "regions_n": len(REGIONS),
                "categories": CATEGORY_DRAW,
                "categories_n": len(CATEGORY_DRAW),
                "channels": CHANNEL_DRAW,
                "sources": SOURCE_DRAW,
                "channels_n": len(CHANNEL_DRAW),
            },
        )
        for statement in (CASES, EVENTS, CLOCKS, PARTIES):
            conn.execute(statement)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("vacuum analyze"))
        conn.execute(text("checkpoint"))  # its writes are not left to run beside the timing


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            table: int(conn.scalar(text(f"select count(*) from {table}")) or 0)
            for table in ("cases", "events", "clocks", "case_parties")
        }
