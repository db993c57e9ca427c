"""JWT authentication: HS256 tokens whose ``sub`` is the user id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from eterna.errors import EternaError

ALGORITHM = "HS256"


class AuthError(EternaError):
    """The credentials are missing, malformed, expired or not ours."""


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller."""

    user_id: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class JwtAuth:
    """Issue and verify HS256 tokens; every other algorithm, and ``none``, is refused."""

    secret: str
    issuer: str | None = None
    audience: str | None = None
    leeway_seconds: int = 10

    def issue(self, user_id: str, *, now: datetime, ttl: timedelta) -> str:
        """Return a signed token for the user."""
        claims: dict[str, object] = {"sub": user_id, "iat": now, "exp": now + ttl}
        if self.issuer:
            claims["iss"] = self.issuer
        if self.audience:
            claims["aud"] = self.audience
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> Principal:
        """Return the principal of a valid token.

        :raises AuthError: when the token is not valid (the reason is not leaked further).
        """
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=[ALGORITHM],
                issuer=self.issuer,
                audience=self.audience,
                leeway=self.leeway_seconds,
                options={"require": ["sub", "exp"]},
            )
        except jwt.PyJWTError as exc:
            raise AuthError(f"invalid token: {type(exc).__name__}") from None
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub or len(sub) > 128:
            raise AuthError("invalid token: bad subject")
        return Principal(user_id=sub, expires_at=datetime.fromtimestamp(claims["exp"]).astimezone())

    def authenticate(self, header: str | None) -> Principal:
        """Verify an ``Authorization: Bearer ...`` value."""
        if not header:
            raise AuthError("missing credentials")
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError("expected 'Bearer <token>'")
        return self.verify(token.strip())
