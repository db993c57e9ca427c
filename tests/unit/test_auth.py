"""JWT verification, secret strength and token-bounded streams."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest

from eterna.adapters.auth import (
    MAX_NUMERIC_DATE,
    AuthError,
    JwtAuth,
    Principal,
    check_secret,
    until_expired,
)
from eterna.core.clock import utcnow
from eterna.entrypoints.bootstrap import jwt_auth
from eterna.entrypoints.cli import main
from eterna.entrypoints.config import Settings

SECRET = "unit-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOP"


def _now() -> datetime:
    return datetime.now(UTC)


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _token(claims: dict[str, object], *, algorithm: str = "HS256", secret: str = SECRET) -> str:
    return jwt.encode(claims, secret, algorithm=algorithm)


def _claims(**overrides: object) -> dict[str, object]:
    claims: dict[str, object] = {"sub": "alice", "exp": _now() + timedelta(minutes=5)}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def test_valid_token_yields_the_subject_and_expiry_plus_leeway() -> None:
    auth = JwtAuth(SECRET, leeway_seconds=10)
    now = _now()
    token = auth.issue("alice", now=now, ttl=timedelta(minutes=5))
    principal = auth.authenticate(f"Bearer {token}")
    assert principal.user_id == "alice"
    exp = datetime.fromtimestamp(int((now + timedelta(minutes=5)).timestamp()), tz=UTC)
    assert principal.expires_at == exp + timedelta(seconds=10)


def test_alg_none_token_is_refused() -> None:
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64({'sub': 'alice', 'exp': 2**40})}."
    with pytest.raises(AuthError, match=r"^invalid token: algorithm not allowed \(HS256 only\)$"):
        JwtAuth(SECRET).verify(unsigned)


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_other_hmac_algorithms_are_refused_even_with_the_right_secret(algorithm: str) -> None:
    with pytest.raises(AuthError, match=r"^invalid token: algorithm not allowed"):
        JwtAuth(SECRET).verify(_token(_claims(), algorithm=algorithm))


def test_token_signed_with_another_secret_is_refused() -> None:
    forged = _token(_claims(), secret="another-secret-0123456789-abcdefghijklmnop")
    # The reason says what to check: `eterna token` ran with another secret in force.
    with pytest.raises(AuthError, match=r"^invalid token: signature does not match \(signed"):
        JwtAuth(SECRET).verify(forged)


@pytest.mark.parametrize("garbage", ["not-a-token", "x.y.z", "a.b"])
def test_a_string_that_is_no_jwt_is_refused_as_such(garbage: str) -> None:
    with pytest.raises(AuthError, match=r"^invalid token: not a JWT$"):
        JwtAuth(SECRET).verify(garbage)


@pytest.mark.parametrize("missing", ["exp", "sub"])
def test_token_without_a_required_claim_is_refused(missing: str) -> None:
    claims = _claims()
    del claims[missing]
    with pytest.raises(AuthError, match=f"^invalid token: (missing claim {missing}|bad subject)$"):
        JwtAuth(SECRET).verify(_token(claims))


def test_expired_token_is_refused_beyond_the_leeway() -> None:
    token = _token(_claims(exp=_now() - timedelta(seconds=30)))
    with pytest.raises(AuthError, match="token expired"):
        JwtAuth(SECRET, leeway_seconds=10).verify(token)


def test_token_expired_within_the_leeway_is_accepted() -> None:
    token = _token(_claims(exp=_now() - timedelta(seconds=3)))
    assert JwtAuth(SECRET, leeway_seconds=10).verify(token).user_id == "alice"


def test_token_not_yet_valid_is_refused() -> None:
    token = _token(_claims(nbf=_now() + timedelta(minutes=2)))
    with pytest.raises(AuthError, match="not yet valid"):
        JwtAuth(SECRET).verify(token)


@pytest.mark.parametrize("iss", [None, "someone-else"])
def test_configured_issuer_refuses_a_missing_or_wrong_iss(iss: str | None) -> None:
    with pytest.raises(AuthError, match="invalid token"):
        JwtAuth(SECRET, issuer="eterna").verify(_token(_claims(iss=iss)))


def test_configured_issuer_accepts_its_own_tokens() -> None:
    auth = JwtAuth(SECRET, issuer="eterna", audience="eterna-api")
    token = auth.issue("alice", now=_now(), ttl=timedelta(minutes=1))
    assert auth.verify(token).user_id == "alice"


@pytest.mark.parametrize("aud", [None, "another-api"])
def test_configured_audience_refuses_a_missing_or_wrong_aud(aud: str | None) -> None:
    with pytest.raises(AuthError, match="invalid token"):
        JwtAuth(SECRET, audience="eterna-api").verify(_token(_claims(aud=aud)))


@pytest.mark.parametrize("sub", ["", "a\x00b", "x" * 129, 42])
def test_bad_subject_is_refused(sub: object) -> None:
    with pytest.raises(AuthError, match="invalid token"):
        JwtAuth(SECRET).verify(_token(_claims(sub=sub)))


MALFORMED_TIMES: list[object] = [
    "99999999999",
    "abc",
    1e20,
    10**30,
    -5,
    True,
    None,
    [1],
    {"at": 1},
    float("nan"),
    float("inf"),
]


@pytest.mark.parametrize("value", MALFORMED_TIMES, ids=repr)
@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
def test_malformed_time_claim_is_refused_with_an_auth_error(claim: str, value: object) -> None:
    claims = _claims()
    claims[claim] = value
    with pytest.raises(AuthError, match=r"invalid token|token expired|not yet valid"):
        JwtAuth(SECRET).verify(_token(claims))


def test_the_latest_expiry_a_datetime_can_hold_is_accepted() -> None:
    principal = JwtAuth(SECRET).verify(_token(_claims(exp=MAX_NUMERIC_DATE, iat=0, nbf=1.5)))
    assert principal.expires_at.year == 9999


def test_oversized_token_is_refused_without_decoding() -> None:
    with pytest.raises(AuthError, match="invalid token"):
        JwtAuth(SECRET).verify("a" * 5000)


@pytest.mark.parametrize(
    ("header", "reason"),
    [(None, "missing credentials"), ("", "missing credentials"), ("Basic abc", "Bearer")],
)
def test_header_without_a_bearer_token_is_refused(header: str | None, reason: str) -> None:
    with pytest.raises(AuthError, match=reason):
        JwtAuth(SECRET).authenticate(header)


def test_auth_errors_and_repr_never_carry_the_token_or_secret() -> None:
    auth = JwtAuth(SECRET)
    expired = _token(_claims(exp=_now() - timedelta(hours=1)))
    tampered = auth.issue("alice", now=_now(), ttl=timedelta(minutes=1))[:-3] + "abc"
    for token in (expired, tampered, "garbage"):
        with pytest.raises(AuthError) as refused:
            auth.authenticate(f"Bearer {token}")
        assert token not in str(refused.value)
        assert token not in refused.value.reason
    assert SECRET not in repr(auth)


@pytest.mark.parametrize("secret", ["short", "a" * 64, "abababababababababababababababab"])
def test_weak_secret_is_refused(secret: str) -> None:
    with pytest.raises(ValueError, match="JWT_SECRET"):
        check_secret(secret)


def test_distributed_mode_refuses_to_start_without_jwt_secret(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, database_url="postgres://db/x", redis_url="redis://r:6379/0"
    )
    with pytest.raises(ValueError, match="needs JWT_SECRET"):
        jwt_auth(settings)


def test_distributed_mode_refuses_a_weak_jwt_secret(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database_url="postgres://db/x",
        redis_url="redis://r:6379/0",
        JWT_SECRET="too-short",
    )
    with pytest.raises(ValueError, match="at least 32"):
        jwt_auth(settings)


def test_jwt_settings_reach_the_verifier(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        JWT_SECRET=SECRET,
        jwt_issuer="eterna",
        jwt_audience="eterna-api",
        jwt_leeway_seconds=3,
    )
    auth = jwt_auth(settings)
    assert (auth.secret, auth.issuer, auth.audience, auth.leeway_seconds) == (
        SECRET,
        "eterna",
        "eterna-api",
        3,
    )


# -- streams bounded by the token ----------------------------------------------------------


class _Ticker:
    """An endless stream yielding every 10 ms, recording whether it was closed."""

    def __init__(self) -> None:
        self.closed = False

    async def stream(self) -> AsyncIterator[int]:
        n = 0
        try:
            while True:
                await asyncio.sleep(0.01)
                n += 1
                yield n
        finally:
            self.closed = True


async def _drain(stream: AsyncIterator[int], into: list[int]) -> None:
    async for n in stream:
        into.append(n)  # noqa: PERF401 - kept item by item, so it survives the raise


def _principal(seconds: float) -> Principal:
    return Principal("alice", datetime.now(UTC) + timedelta(seconds=seconds))


@pytest.mark.anyio
async def test_stream_ends_with_auth_error_when_the_token_expires() -> None:
    ticker = _Ticker()
    seen: list[int] = []
    started = asyncio.get_running_loop().time()
    stream = until_expired(ticker.stream(), _principal(0.2), lambda: datetime.now(UTC))
    with pytest.raises(AuthError, match="token expired"):
        await _drain(stream, seen)
    elapsed = asyncio.get_running_loop().time() - started
    assert 0.15 <= elapsed < 1.0
    assert len(seen) >= 5
    assert ticker.closed


@pytest.mark.anyio
async def test_stream_that_ends_first_ends_normally() -> None:
    async def three() -> AsyncIterator[int]:
        for n in (1, 2, 3):
            yield n

    items = [n async for n in until_expired(three(), _principal(60), lambda: datetime.now(UTC))]
    assert items == [1, 2, 3]


@pytest.mark.anyio
async def test_stream_of_an_already_expired_token_yields_nothing() -> None:
    ticker = _Ticker()
    seen: list[int] = []
    stream = until_expired(ticker.stream(), _principal(-1), lambda: datetime.now(UTC))
    with pytest.raises(AuthError, match="token expired"):
        await _drain(stream, seen)
    assert seen == []


def test_a_verified_token_is_remembered_but_still_refused_once_expired() -> None:
    auth = JwtAuth(SECRET, leeway_seconds=0)
    token = _token(_claims(exp=_now() + timedelta(seconds=1)))
    first = auth.verify(token)
    assert auth.verify(token) is first  # the second use skips decoding
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    with pytest.raises(AuthError, match="invalid token"):
        auth.verify(tampered)
    object.__setattr__(first, "expires_at", _now() - timedelta(seconds=1))  # time passes
    with pytest.raises(AuthError, match="token expired"):
        auth.verify(token)
    assert token not in auth._verified


def test_the_memory_of_verified_tokens_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("eterna.adapters.auth.MAX_VERIFIED_TOKENS", 3)
    auth = JwtAuth(SECRET)
    tokens = [_token(_claims(sub=f"user{i}")) for i in range(5)]
    for token in tokens:
        auth.verify(token)
    assert list(auth._verified) == tokens[2:]


@pytest.mark.anyio
async def test_an_idle_stream_ends_when_the_token_expires() -> None:
    closed = asyncio.Event()

    async def silent() -> AsyncIterator[int]:
        try:
            await asyncio.Event().wait()
            yield 0
        finally:
            closed.set()

    started = asyncio.get_running_loop().time()
    with pytest.raises(AuthError, match="token expired"):
        await _drain(until_expired(silent(), _principal(0.1), lambda: datetime.now(UTC)), [])
    assert 0.05 <= asyncio.get_running_loop().time() - started < 1.0
    assert closed.is_set()


@pytest.mark.anyio
async def test_a_cancellation_from_outside_stays_a_cancellation() -> None:
    ticker = _Ticker()
    seen: list[int] = []
    task = asyncio.create_task(
        _drain(until_expired(ticker.stream(), _principal(60), lambda: datetime.now(UTC)), seen)
    )
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen
    assert ticker.closed


@pytest.mark.anyio
async def test_the_streams_own_timeout_is_not_taken_for_expiry() -> None:
    async def timing_out() -> AsyncIterator[int]:
        yield 1
        async with asyncio.timeout(0.01):
            await asyncio.Event().wait()
        yield 2

    seen: list[int] = []
    with pytest.raises(TimeoutError):
        await _drain(until_expired(timing_out(), _principal(60), lambda: datetime.now(UTC)), seen)
    assert seen == [1]


@pytest.mark.anyio
async def test_one_timer_serves_a_whole_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()
    armed: list[float] = []
    call_at = loop.call_at

    def counting_call_at(when: float, *args: object, **kwargs: object) -> asyncio.TimerHandle:
        armed.append(when)
        return call_at(when, *args, **kwargs)  # type: ignore[arg-type]

    async def many() -> AsyncIterator[int]:
        for n in range(200):
            await asyncio.sleep(0)
            yield n

    monkeypatch.setattr(loop, "call_at", counting_call_at)
    stream = until_expired(many(), _principal(60), lambda: datetime.now(UTC))
    assert [n async for n in stream] == list(range(200))
    assert len(armed) == 1


def test_the_admin_role_comes_from_the_role_claim_only() -> None:
    auth = JwtAuth("admin-role-secret-0123456789abcdefghijklmnop")
    admin = auth.verify(auth.issue("root", now=utcnow(), ttl=timedelta(hours=1), admin=True))
    plain = auth.verify(auth.issue("alice", now=utcnow(), ttl=timedelta(hours=1)))
    assert (admin.user_id, admin.admin) == ("root", True)
    assert (plain.user_id, plain.admin) == ("alice", False)


def test_eterna_token_admin_issues_a_token_with_the_admin_role(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "admin-role-secret-0123456789abcdefghijklmnop"
    monkeypatch.setenv("JWT_SECRET", secret)
    main(["token", "--admin", "root"])
    token = capsys.readouterr().out.strip()
    assert JwtAuth(secret).verify(token).admin
    main(["token", "alice"])
    assert not JwtAuth(secret).verify(capsys.readouterr().out.strip()).admin
