"""Code messages being sent (CodeSend), so a send cut short by a crash is not repeated."""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import CodeSend


class CodeSendRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def begun(self, code_id: int) -> CodeSend | None:
        """A send of this code that began and never ended (its instance died)."""
        return await self.session.get(CodeSend, code_id)

    async def begin(self, code_id: int, holder: str) -> None:
        self.session.add(CodeSend(code_id=code_id, holder=holder[:128]))
        await self.session.commit()

    async def end(self, code_id: int) -> None:
        await self.session.exec(delete(CodeSend).where(col(CodeSend.code_id) == code_id))
        await self.session.commit()
