"""/stats: a few numbers for the bot's operators (ADMIN_IDS); anyone else is told no."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import Message

from bot.services.ops import OpsService, OpsStats
from bot.texts import Translator


def _seconds(value: float | None, t: Translator) -> str:
    return t("ops.none") if value is None else f"{value:.1f}"


def render(stats: OpsStats, t: Translator) -> str:
    rate = stats.provider_error_rate
    return t("ops.stats", users=str(stats.users), accounts=str(stats.accounts),
             running=str(stats.running), codes=str(stats.codes_today),
             rate=t("ops.none") if rate is None else f"{rate * 100:.1f}%",
             failed=str(stats.provider_failed), calls=str(stats.provider_calls),
             p50=_seconds(stats.latency_p50, t), p95=_seconds(stats.latency_p95, t),
             samples=str(stats.latency_samples))


async def stats_command(message: Message, t: Translator, ops: OpsService) -> None:
    if message.from_user is None or not ops.is_operator(message.from_user.id):
        await message.answer(t("ops.not_admin"))
        return
    await message.answer(render(await ops.stats(), t))


def make_router() -> Router:
    router = Router(name="ops")
    # In a group, /stats is the group's spending (handlers/group_rules.py).
    router.message.register(stats_command, Command("stats"), F.chat.type == "private")
    return router
