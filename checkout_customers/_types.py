"""Small typing helpers shared by the resource layer and the generated sync facade."""

from __future__ import annotations

import enum
from typing import Final, Literal

__all__ = ["NOT_GIVEN", "NotGiven"]


class NotGiven(enum.Enum):
    """The type of `NOT_GIVEN`: an argument the caller did not pass, so it is not sent."""

    NOT_GIVEN = "NOT_GIVEN"

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __bool__(self) -> Literal[False]:
        return False


#: The default of an optional argument that was not passed: the field is left out of the request.
NOT_GIVEN: Final = NotGiven.NOT_GIVEN
