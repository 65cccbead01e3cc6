"""Reading a request's body no further than the contract's limit."""

from __future__ import annotations

from fastapi import Request

from dispatcher.contract.intake import MAX_MESSAGE_BYTES


async def bounded_body(request: Request) -> bytes:
    """The body, read no further than one byte past the contract's limit: a larger one is
    refused as too large without being held in memory whole."""
    chunks, size = [], 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_MESSAGE_BYTES:
            break
    return b"".join(chunks)[: MAX_MESSAGE_BYTES + 1]
