"""Numbers as generated files spell them: 0.2, 14.4, 10; never 1E+1."""

from __future__ import annotations

from decimal import Decimal


def render(number: Decimal, significant: int | None = None) -> str:
    """Plain notation, no trailing zeros; rounded to ``significant`` digits
    when given (for prose, where 3.333... should read 3.333)."""
    if significant is not None and number:
        exponent = number.adjusted() - significant + 1
        number = number.quantize(Decimal(1).scaleb(exponent))
    text = format(number.normalize(), "f")
    return text
