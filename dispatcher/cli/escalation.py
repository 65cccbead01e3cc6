"""Escalation for operators: one sweep as of a time, the overdue list, re-planning, and the
notifications that failed.

    xinfang sweep [--now T] [--no-deliver]
    xinfang overdue [--region P] [--level L] [--now T] [--json]
    xinfang replan
    xinfang notifications failed [--json] | retry [ID ...|--all] | secret

A time is a date (the start of that local day) or an RFC 3339 time; without an offset it is
Asia/Shanghai. `--now` in the future takes the steps due by then: it is meant for tests,
rehearsals and replays on a simulated clock.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click

from dispatcher.cli import common
from dispatcher.cli.common import plural
from dispatcher.cli.deadline import parse_start
from dispatcher.domain.clocks import SHANGHAI, days_late
from dispatcher.domain.notifications import Status
from rules.regions import LEVELS


def _now(app: Any, value: str | None) -> datetime:
    if not value:
        return app.clock()
    try:
        return parse_start(value)
    except click.BadParameter as error:
        raise click.BadParameter(error.message, param_hint="--now") from None


def _time_option(help_text: str) -> Any:
    return click.option("--now", "now", metavar="TIME", help=help_text)


@click.command("sweep")
@_time_option("Sweep as of this time (default: now).")
@click.option("--no-deliver", is_flag=True, help="Leave the notifications to the workers.")
def sweep(now: str | None, no_deliver: bool) -> None:
    """Take every escalation step due, and send its notifications, in this process."""
    app = common.build_app(common.settings())
    try:
        as_of = _now(app, now)
        taken = app.escalations.sweep(as_of)
        attempts = [] if no_deliver else app.deliveries.deliver_due(as_of)
    finally:
        app.close()
    for step in taken:
        click.echo(f"escalated {step.case_id} {step.clock} {step.step} ({step.level})")
    sent = sum(a.status is Status.SENT for a in attempts)
    click.echo(
        f"{plural(len(taken), 'step')} taken as of {as_of.astimezone(SHANGHAI).isoformat()}; "
        f"{plural(sent, 'notification')} sent, {len(attempts) - sent:,} not"
    )


@click.command("overdue")
@click.option("--region", metavar="CODE", help="Only cases of this region or below it.")
@click.option("--level", type=click.Choice(LEVELS), help="Only cases escalated to this level.")
@_time_option("Overdue as of this time (default: now).")
@click.option("--limit", type=click.IntRange(1, 100_000), default=1000, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def overdue(
    region: str | None, level: str | None, now: str | None, limit: int, as_json: bool
) -> None:
    """The overdue cases: their clock, step, responsible unit and days overdue."""
    from dispatcher.adapters.db import ladder_store

    if region is not None and not region.isdigit():
        raise click.BadParameter(f"{region!r} is not a region code", param_hint="--region")
    app = common.build_app(common.settings())
    try:
        as_of = _now(app, now)
        with app.engine.connect() as conn:
            rows = ladder_store.overdue(conn, as_of, region, level, limit)
    finally:
        app.close()
    for row in rows:
        row["days_overdue"] = days_late(row["due_at"], as_of)
        click.echo(json.dumps(_json(row), ensure_ascii=False) if as_json else _line(row))
    if not as_json:
        shown = as_of.astimezone(SHANGHAI)
        click.echo(f"{plural(len(rows), 'overdue clock')} as of {shown:%Y-%m-%d %H:%M}")


def _json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        key: (value.astimezone(SHANGHAI).isoformat() if isinstance(value, datetime) else value)
        for key, value in row.items()
        if key != "title"
    } | {"summary": row["title"]}


def _line(row: dict[str, Any]) -> str:
    step = row["escalated_step"] or "—"
    return (
        f"{row['case_id']}  {row['source']}/{row['external_id']}  {row['clock']:<10} "
        f"due {row['due_at'].astimezone(SHANGHAI):%Y-%m-%d}  {_days(row['days_overdue'])}  "
        f"step {step} ({row['escalated_level'] or '—'})  {row['org_unit_name'] or '—'}"
    )


@click.command("replan")
def replan() -> None:
    """Plan every open clock's ladder again from its history (after editing ladders, policies,
    the calendar or the directory; the scheduler does this itself when it starts)."""
    app = common.build_app(common.settings())
    try:
        count = app.escalations.replan(app.clock())
    finally:
        app.close()
    click.echo(f"re-planned the ladders of {plural(count, 'case')}")


@click.group("notifications")
def notifications_group() -> None:
    """Notifications that failed after their last retry, and retrying them."""


@notifications_group.command("failed")
@click.option("--limit", type=click.IntRange(1, 100_000), default=1000, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def failed(limit: int, as_json: bool) -> None:
    """The notifications that failed for good, with their last error."""
    from dispatcher.adapters.db import ladder_store

    app = common.build_app(common.settings())
    try:
        with app.engine.connect() as conn:
            rows = ladder_store.notifications_by_status(conn, Status.FAILED, limit)
    finally:
        app.close()
    for row in rows:
        if as_json:
            shown = {k: v for k, v in row.items() if k != "payload"}
            click.echo(json.dumps(shown, ensure_ascii=False, default=str))
        else:
            click.echo(
                f"{row['id']}  {row['channel']:<7} {row['recipient']}  case {row['case_id']}  "
                f"{plural(row['attempts'], 'attempt')}: {row['last_error']}"
            )
    if not as_json:
        click.echo(f"{plural(len(rows), 'failed notification')}")


@notifications_group.command("retry")
@click.argument("ids", nargs=-1)
@click.option("--all", "every", is_flag=True, help="Every failed notification.")
def retry(ids: tuple[str, ...], every: bool) -> None:
    """Send failed notifications again, now, with fresh attempts."""
    if bool(ids) == every:
        raise click.UsageError("give notification ids or --all, not both and not neither")
    app = common.build_app(common.settings())
    try:
        now = app.clock()
        reopened = app.deliveries.reopen(None if every else list(ids), now)
        attempts = [app.deliveries.deliver(nid, now) for nid in reopened]
    finally:
        app.close()
    sent = sum(a is not None and a.status is Status.SENT for a in attempts)
    click.echo(f"{plural(len(reopened), 'notification')} retried: {sent:,} sent")


@notifications_group.command("secret")
def secret() -> None:
    """The webhook signing secret (Standard Webhooks, whsec_…) that receivers verify with."""
    from dispatcher.adapters.db import store

    settings = common.settings()
    if settings.webhook_secret:
        click.echo(settings.webhook_secret)
        return
    app = common.build_app(settings)
    try:
        with app.engine.connect() as conn:
            click.echo(store.read_secret(conn, "webhook_secret") or "")
    finally:
        app.close()


def _days(count: int) -> str:
    """'  1 day ', ' 12 days', aligned in a column."""
    return f"{count:>3} {'day ' if count == 1 else 'days'}"
