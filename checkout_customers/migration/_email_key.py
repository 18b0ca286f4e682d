"""The key of an email address: one key for one address, however the input spells it.

The key is also the email the migration sends (see docs/migration.md, "Emails"), so that a later
look-up by key finds what the migration created whatever the API's own matching rules are:

1. surrounding white space is removed (`str.strip`);
2. a character of Unicode category Cc (C0 and C1 controls, DEL), Cf (format: zero-width space
   and joiners, soft hyphen, byte order mark, bidirectional marks and overrides), Cs (a lone
   surrogate), Co (private use) or Cn (unassigned in the Unicode version of the running Python)
   makes the email invalid: it is invisible or meaningless in an address, and kept in a key it
   would make a second customer for the same visible address;
3. the text is put in Unicode normalisation form NFC (composed: `é` is one code point) and
   lower-cased (`str.lower`, not `casefold`, which would make `ß` and `ss` one address);
4. a domain (the part after the last `@`) that is not ASCII is converted to its ASCII form
   (IDNA 2008 A-labels with the UTS #46 mapping, non-transitional: `bücher.de` becomes
   `xn--bcher-kva.de`, `faß.de` stays distinct from `fass.de`); ASCII labels, punycode ones
   included, are kept as they are.

    email_key("  Bruce@Bücher.DE ")   # 'bruce@xn--bcher-kva.de'
"""

from __future__ import annotations

import unicodedata

import idna

from .. import _limits
from .._errors import CheckoutArgumentError

__all__ = ["REFUSED_CATEGORIES", "email_key", "normalise_email"]

#: Unicode general categories refused anywhere in an email.
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_CATEGORY_NAMES = {
    "Cc": "a control character",
    "Cf": "an invisible formatting character",
    "Co": "a private-use character",
    "Cn": "an unassigned code point",
}
# Normalising a long text costs time (punycode is quadratic in a label's length); an address
# this long is refused whatever it normalises to.
_MAX_INPUT_LENGTH = 4 * _limits.EMAIL_MAX_LENGTH


def _fail(problem: str) -> CheckoutArgumentError:
    return CheckoutArgumentError(f"email: {problem}", field="email")


def _describe(character: str) -> str:
    category = unicodedata.category(character)
    name = unicodedata.name(character, "")
    code = f"U+{ord(character):04X}" + (f" {name}" if name else "")
    return f"{_CATEGORY_NAMES[category]} ({code})"


def _check_characters(text: str) -> None:
    if text.isascii() and text.isprintable():
        return  # only C0 controls and DEL can be refused in ASCII: the common case stays cheap
    for position, character in enumerate(text, start=1):
        category = unicodedata.category(character)
        if category == "Cs":  # worded as `customers.create` words it
            raise _fail("is not valid Unicode (a lone surrogate)")
        if category in REFUSED_CATEGORIES:
            raise _fail(f"holds {_describe(character)} at character {position}")


def _ascii_domain(domain: str) -> str:
    if domain.isascii():
        return domain
    try:
        mapped = idna.uts46_remap(domain, std3_rules=False, transitional=False)
        # Label by label, so that an ASCII label IDNA 2008 would refuse (`foo_bar`) is kept.
        labels = [
            label if label.isascii() else idna.alabel(label).decode("ascii")
            for label in mapped.split(".")
        ]
    except (idna.IDNAError, UnicodeError) as exc:
        raise _fail(
            f"the domain {domain!r} is not a valid internationalised domain name ({exc})"
        ) from None
    return ".".join(labels)


def email_key(value: str) -> str:
    """The key of `value` (see the module docstring); raises `CheckoutArgumentError`.

    The key is not yet checked as an address (length, `@`, dots): `create_body` does that.
    """
    text = value.strip()
    if len(text) > _MAX_INPUT_LENGTH:
        raise _fail(f"must be at most {_limits.EMAIL_MAX_LENGTH} characters")
    _check_characters(text)
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).lower())
    local, at, domain = text.rpartition("@")
    if not at:
        return text
    return local + at + _ascii_domain(domain)


def normalise_email(value: object) -> str | None:
    """A best-effort key to report a row by: `email_key`, else the text stripped and lower-cased.

    None when `value` is not a string.
    """
    if not isinstance(value, str):
        return None
    try:
        return email_key(value)
    except CheckoutArgumentError:
        return value.strip().lower()
