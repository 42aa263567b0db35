"""Saved screener screens in the store: list, read, replace and delete one owner's named
screens. The store checks the shape (name length, JSON size); the screener checks the
filters (:func:`core.screener.filters.from_spec`) when a screen is applied.
"""

from __future__ import annotations

import json

from sqlmodel import Session, select

from core.errors import DataValidationError
from core.store.db import utcnow
from core.store.tables import SavedScreen

MAX_NAME = 60
MAX_SCREENS = 50
MAX_SPEC_BYTES = 8_000


def _name(name: str) -> str:
    n = " ".join(str(name or "").split())
    if not n:
        raise DataValidationError("Give the screen a name.")
    if len(n) > MAX_NAME:
        raise DataValidationError(f"A screen name has at most {MAX_NAME} characters.")
    return n


def list_screens(owner: str, *, session: Session) -> dict[str, dict]:
    """``owner``'s screens, name -> spec, by name."""
    rows = session.exec(select(SavedScreen).where(SavedScreen.owner == owner)
                        .order_by(SavedScreen.name)).all()
    return {r.name: dict(r.spec) for r in rows}


def save_screen(owner: str, name: str, spec: dict, *, session: Session) -> str:
    """Create or replace ``owner``'s screen ``name``; returns the stored name.

    Raises:
        DataValidationError: empty or too long a name, a spec over :data:`MAX_SPEC_BYTES`
            as JSON, or more than :data:`MAX_SCREENS` screens.
    """
    n = _name(name)
    if len(json.dumps(spec, default=str)) > MAX_SPEC_BYTES:
        raise DataValidationError(f"A screen is at most {MAX_SPEC_BYTES:,} bytes of filters.")
    row = session.get(SavedScreen, (owner, n))
    if row is None:
        count = len(session.exec(select(SavedScreen.name)
                                 .where(SavedScreen.owner == owner)).all())
        if count >= MAX_SCREENS:
            raise DataValidationError(f"At most {MAX_SCREENS} saved screens; delete one "
                                      "first.")
        row = SavedScreen(owner=owner, name=n)
    row.spec, row.updated_at = dict(spec), utcnow()
    session.add(row)
    session.flush()
    return n


def delete_screen(owner: str, name: str, *, session: Session) -> bool:
    """Delete ``owner``'s screen ``name``; False when it did not exist."""
    row = session.get(SavedScreen, (owner, _name(name)))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True
