"""JWT authentication: HS256 tokens whose ``sub`` is the user id.

Only HS256 is accepted (``alg: none`` and every other algorithm are refused before the
signature is looked at), ``exp`` and ``sub`` are required, ``iss`` and ``aud`` are checked when
configured. Errors carry a short reason safe to show to the caller; the token itself never
appears in an error or a log line.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import jwt

from eterna.domain.errors import EternaError

T = TypeVar("T")

ALGORITHM = "HS256"
MIN_SECRET_LENGTH = 32
MIN_SECRET_DISTINCT_CHARS = 8
# A real token is a few hundred bytes; refusing larger ones bounds the work done on garbage.
MAX_TOKEN_LENGTH = 4096
MAX_VERIFIED_TOKENS = 4096
MAX_SUBJECT_LENGTH = 128
ROLE_CLAIM = "role"
ADMIN_ROLE = "admin"
# The time claims RFC 7519 defines as NumericDate: a JSON number of seconds since the epoch.
TIME_CLAIMS = ("exp", "nbf", "iat")
# The last second a datetime holds (9999-12-31T23:59:59Z), less a day for the leeway added
# to ``exp``; later values could not become a Principal's expiry.
MAX_NUMERIC_DATE = 253_402_300_799 - 86_400


class AuthError(EternaError):
    """The credentials are missing, malformed, expired or not ours.

    ``reason`` is safe to show to the caller: it names what is wrong, never the token.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller, and when their token stops being accepted (exp + leeway)."""

    user_id: str
    expires_at: datetime
    # The token's ``"role": "admin"`` claim: pause and resume trading, cancel any user's
    # orders, read any order and the audit trail. Any other role value grants nothing.
    admin: bool = False

    def expired(self, now: datetime) -> bool:
        """Tell whether the token has expired at ``now``."""
        return now >= self.expires_at


def check_secret(secret: str) -> str:
    """Return the secret if it is strong enough to sign tokens.

    :raises ValueError: when it is shorter than 32 characters or made of a few repeated ones.
    """
    if len(secret) < MIN_SECRET_LENGTH:
        raise ValueError(f"JWT_SECRET must be at least {MIN_SECRET_LENGTH} characters")
    if len(set(secret)) < MIN_SECRET_DISTINCT_CHARS:
        raise ValueError(
            "JWT_SECRET is too repetitive: generate one, e.g. "
            '`python3 -c "import secrets; print(secrets.token_hex(32))"`'
        )
    return secret


@dataclass(frozen=True, slots=True)
class JwtAuth:
    """Issue and verify HS256 tokens; every other algorithm, and ``none``, is refused."""

    # Kept out of reprs, so it reaches no traceback, debug log or test report.
    secret: str = field(repr=False)
    issuer: str | None = None
    audience: str | None = None
    leeway_seconds: int = 10
    # Tokens that verified, and their principal: a client sends the same token with every
    # request, and decoding and checking its HMAC cost a twentieth of a placement's CPU.
    # Keyed by the exact token text; a cached principal is still refused after its expiry.
    _verified: dict[str, Principal] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def issue(self, user_id: str, *, now: datetime, ttl: timedelta, admin: bool = False) -> str:
        """Return a signed token for the user (with the admin role when ``admin``)."""
        claims: dict[str, object] = {"sub": user_id, "iat": now, "exp": now + ttl}
        if admin:
            claims[ROLE_CLAIM] = ADMIN_ROLE
        if self.issuer:
            claims["iss"] = self.issuer
        if self.audience:
            claims["aud"] = self.audience
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> Principal:
        """Return the principal of a valid token.

        :raises AuthError: when the token is not valid, with a reason safe to show.
        """
        known = self._verified.get(token)
        if known is not None:
            if known.expired(datetime.now(UTC)):
                del self._verified[token]
                raise AuthError("token expired")
            return known
        principal = self._decode(token)
        if len(self._verified) >= MAX_VERIFIED_TOKENS:
            del self._verified[next(iter(self._verified))]
        self._verified[token] = principal
        return principal

    def _decode(self, token: str) -> Principal:
        if len(token) > MAX_TOKEN_LENGTH:
            raise AuthError("invalid token: too long")
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
        except jwt.ExpiredSignatureError:
            raise AuthError("token expired") from None
        except jwt.ImmatureSignatureError:
            raise AuthError("token not yet valid") from None
        except jwt.PyJWTError as exc:
            raise AuthError(f"invalid token: {_why(exc)}") from None
        _check_time_claims(claims)
        sub = claims.get("sub")
        if (
            not isinstance(sub, str)
            or not sub
            or len(sub) > MAX_SUBJECT_LENGTH
            or not sub.isprintable()
        ):
            raise AuthError("invalid token: bad subject")
        expires_at = datetime.fromtimestamp(claims["exp"], tz=UTC)
        admin = claims.get(ROLE_CLAIM) == ADMIN_ROLE
        return Principal(sub, expires_at + timedelta(seconds=self.leeway_seconds), admin=admin)

    def authenticate(self, header: str | None) -> Principal:
        """Verify an ``Authorization: Bearer ...`` value."""
        if not header:
            raise AuthError("missing credentials")
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError("expected 'Authorization: Bearer <token>'")
        return self.verify(token.strip())


# Why PyJWT refused a token, most specific first (DecodeError is the base of the signature's).
_WHY: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.InvalidSignatureError, "signature does not match (signed with another secret?)"),
    (jwt.InvalidAlgorithmError, f"algorithm not allowed ({ALGORITHM} only)"),
    (jwt.InvalidIssuerError, "wrong issuer"),
    (jwt.InvalidAudienceError, "wrong audience"),
    (jwt.DecodeError, "not a JWT"),
)


def _why(exc: jwt.PyJWTError) -> str:
    """Say why PyJWT refused a token, in words safe to show (never the token or the secret).

    The commonest cause is a token signed with another secret: `eterna token` run where
    another JWT_SECRET (or another data folder's generated one) is in force.
    """
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"missing claim {exc.claim}"
    return next((why for kind, why in _WHY if isinstance(exc, kind)), "refused")


def _check_time_claims(claims: dict[str, object]) -> None:
    """Refuse time claims that are not plain numbers within what a datetime can hold.

    PyJWT compares ``int(value)``, so it lets ``"99999999999"``, ``true`` and ``1e20`` through;
    reading them as datetimes would then fail with a TypeError or an OverflowError.

    :raises AuthError: "invalid token: bad <claim>".
    """
    for name in TIME_CLAIMS:
        if name not in claims:
            continue
        value = claims[name]
        # bool is an int to Python, not a number to JSON; NaN fails both comparisons.
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0 <= value <= MAX_NUMERIC_DATE
        ):
            raise AuthError(f"invalid token: bad {name}")


async def until_expired(
    stream: AsyncIterator[T], principal: Principal, clock: Callable[[], datetime]
) -> AsyncGenerator[T, None]:
    """Relay the stream while the principal's token is valid; close it when it expires.

    A token is checked once, when a connection opens; a subscription may outlive it by
    hours. This bounds every stream by the lifetime of the token that opened it.

    One timer per stream, armed once: a timeout around every wait re-armed a timer for each
    event, a noticeable share of the API's CPU per event delivered. At expiry the timer
    cancels the wait in progress, if any, the way ``asyncio.timeout`` does (a cancellation
    from anyone else still propagates as one); a stream holding an event at hand at that
    moment ends before its next wait.

    :raises AuthError: "token expired" at expiry, after closing the stream.
    """
    loop = asyncio.get_running_loop()
    waiting: asyncio.Task[object] | None = None
    expired = cancelled = False

    def expire() -> None:
        nonlocal expired, cancelled
        expired = True
        if waiting is not None:
            cancelled = True
            waiting.cancel()

    handle: asyncio.TimerHandle | None = None
    try:
        remaining = (principal.expires_at - clock()).total_seconds()
        if remaining > 0:
            handle = loop.call_later(remaining, expire)
        else:
            expired = True
        while True:
            if expired:
                raise AuthError("token expired")
            task = waiting = asyncio.current_task()
            try:
                item = await anext(stream)
            except asyncio.CancelledError:
                if cancelled and task is not None and task.uncancel() == 0:
                    raise AuthError("token expired") from None
                raise
            except StopAsyncIteration:
                return
            finally:
                waiting = None
            if cancelled and task is not None:  # the stream swallowed our cancellation
                task.uncancel()
                raise AuthError("token expired")
            yield item
    finally:
        if handle is not None:
            handle.cancel()
        if isinstance(stream, AsyncGenerator):
            await stream.aclose()
