"""The document texts seen last, parsed and checked, bounded by their number and their size.

A parsed document keeps its tokens alive through its locations: a document at the token
limit holds about 13,000 objects and 1.5 MB. A cache of 256 entries, as strawberry's parser
and validation caches were, could hold 400 MB of documents sent once by whoever sent them,
and every full garbage collection walks what it holds (the start-up heap is frozen, the
cache is not): 50,000 cached tokens made each one take 70 ms here, 10,000 about 4 ms. So the
cache also counts the tokens it holds and forgets the oldest entries beyond 10,000; that
still holds a hundred of the short documents clients repeat (GraphiQL's introspection query
is 163 tokens, an example operation with its fragments 50 to 200).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from graphql import ASTValidationRule, DocumentNode, GraphQLError

Rules = tuple[type[ASTValidationRule], ...]


@dataclass
class Known:
    """A document text seen before: what parsing it gave, and its verdict by rule set."""

    document: DocumentNode | None  # None: refused at parse
    refusal: GraphQLError | None
    weight: int  # tokens held
    verdicts: dict[Rules, list[GraphQLError]] = field(default_factory=dict)


class DocumentCache:
    """The texts used last, at most ``entries`` of them holding at most ``tokens`` tokens."""

    def __init__(self, entries: int = 256, tokens: int = 10_000) -> None:
        self._entries = entries
        self._tokens = tokens
        self._held = 0
        self._known: OrderedDict[str, Known] = OrderedDict()

    def get(self, text: str) -> Known | None:
        """Return what is known of the text, marking it used."""
        known = self._known.get(text)
        if known is not None:
            self._known.move_to_end(text)
        return known

    def put(self, text: str, known: Known) -> None:
        """Remember the text, forgetting the oldest entries beyond the bounds."""
        if known.weight > self._tokens or text in self._known:
            return
        self._known[text] = known
        self._held += known.weight
        while len(self._known) > self._entries or self._held > self._tokens:
            _, oldest = self._known.popitem(last=False)
            self._held -= oldest.weight

    @property
    def held(self) -> tuple[int, int]:
        """Return how many texts, and how many tokens, the cache holds."""
        return len(self._known), self._held
