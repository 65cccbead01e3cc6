from enum import StrEnum


class Channel(StrEnum):
    """The five intake channels of the "five-in-one" platform (信、访、网、电、视频)."""

    LETTER = "letter"
    VISIT = "visit"
    ONLINE = "online"
    PHONE = "phone"
    VIDEO = "video"
