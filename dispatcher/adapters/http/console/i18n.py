"""The console's languages: Chinese, in which its templates are written, and English.

A template writes `{{ _("…") }}`, and `_` is the request's language's catalog: the Chinese text
is its own key, and locales/en.yaml gives each its English (passed with each render rather than
installed in the shared environment, which the server's threads render with at once). A text
missing from a catalog shows as written; a test keeps every text of the templates in the
English catalog.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

LANGUAGES = {"zh": "中文", "en": "English"}
DEFAULT = "zh"

# Labels of the lifecycle's names, in the templates' language (translated as every text is).
STAGES = {
    "registered": "已登记",
    "triage": "待分办",
    "assigned": "待受理",
    "objected": "已提出异议",
    "accepted": "办理中",
    "not_accepted": "不予受理",
    "replied": "已答复",
    "under_review": "复查复核中",
    "closed": "已办结",
    "final": "终结",
}
CLOCKS = {
    "forwarding": "转送期限",
    "acceptance": "受理期限",
    "objection": "异议期限",
    "handling": "办理期限",
    "review_request": "复查申请期限",
    "review": "复查期限",
    "rereview_request": "复核申请期限",
    "rereview": "复核期限",
}
CLOCK_STATUSES = {
    "running": "计时中",
    "paused": "已暂停",
    "met": "按期",
    "met_late": "逾期完成",
    "overdue": "已逾期",
    "open": "开放",
    "used": "已使用",
    "lapsed": "已过期",
    "closed": "已关闭",
}
LEVELS = {
    "village": "村（社区）级",
    "town": "乡镇（街道）级",
    "district": "区县级",
    "city": "市级",
    "province": "省级",
}
EVENTS = {
    "registered": "登记",
    "assigned": "分办",
    "accepted": "已受理",
    "not_accepted": "不予受理",
    "objected": "已提出异议",
    "rerouted": "改派",
    "assignment_confirmed": "维持分办",
    "extended": "已延期",
    "hearing_started": "开始听证",
    "hearing_ended": "结束听证",
    "replied": "书面答复",
    "evaluated": "评价",
    "rehandling": "重新办理",
    "review_requested": "申请复查",
    "rereview_requested": "申请复核",
    "closed": "办结",
    "finalized": "终结",
    "command_rejected": "操作被拒绝",
    "query_code_issued": "补发查询码",
    "repeat_linked": "重复信访",
    "repeat_refused": "重复信访不予受理",
    "party_added": "联名信访人加入",
    "escalated": "督办升级",
    "deescalated": "督办停止",
}
KPIS = {
    "timely_acceptance": "及时受理率",
    "on_time_completion": "按期办结率",
    "online_share": "网上信访占比",
    "satisfaction": "满意率",
    "evaluation_participation": "参评率",
    "escalation": "督办升级率",
}
RATINGS = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"}
STEP_STATES = {"taken": "已执行", "skipped": "已跳过", "next": "下一步", "planned": "计划中"}


@cache
def catalog(language: str) -> dict[str, str]:
    if language == DEFAULT:
        return {}
    text = resources.files(__package__).joinpath(f"locales/{language}.yaml").read_text("utf-8")
    loaded: dict[str, str] = yaml.safe_load(text)
    return loaded


class Translations:
    """One language's texts, for the templates."""

    def __init__(self, language: str) -> None:
        self.language = language if language in LANGUAGES else DEFAULT
        self._texts = catalog(self.language)

    def gettext(self, message: str) -> str:
        return self._texts.get(message, message)

    def label(self, table: dict[str, str], name: Any) -> str:
        """A lifecycle name in this language; the name itself when it has no label."""
        text = table.get(str(name))
        return self.gettext(text) if text else str(name)
