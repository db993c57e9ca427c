"""What a GraphQL document costs, measured in one pass before graphql-core validates it.

graphql-core runs its validation rules together in one visitor, so a limit enforced by a rule
of ours cannot stop the expensive ones (the overlap rule compares every pair of fields that
share a response name: quadratic). This measure runs first and is linear in the document:

- each definition's own body is walked once; a fragment's totals (selections, aliases,
  depth, ``__schema`` fields) are then folded in dependency order, so a spread adds the
  spread fragment's totals: 25 fragments each spreading the next twice cost 50 additions,
  not 2^25 walks. A fragment that spreads itself, directly or through others, expands
  without end and is refused as such;
- only once the expanded size is within its limit is the expanded document walked (at most
  that many nodes) to count how often one field is selected at one place of the result.

Every count sees fragments written out where they are spread, as execution does. Fields
whose name starts with ``__`` (introspection) do not count towards the depth: graphql-core's
own rule bounds the nesting of introspection lists.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from graphql import (
    ArgumentNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
)

# Counts stop growing here: a fan-out document's expansion has hundreds of digits.
_CAP = 10**9

Definition = OperationDefinitionNode | FragmentDefinitionNode


@dataclass(frozen=True)
class DocumentLimits:
    """Cost limits of one GraphQL document; ``None`` lifts a limit."""

    depth: int | None = None  # fields above the deepest field
    aliases: int | None = None
    selections: int | None = None  # fields, spreads, inline fragments, variable references
    field_repeats: int | None = None  # one field selected at one place of the result
    fragments: int | None = None
    operations: int | None = None
    directives: int | None = None  # on one field, fragment, operation or variable
    variables: int | None = None  # declared by one operation
    schema_fields: int | None = None  # ``__schema`` selections of one operation


@dataclass(frozen=True)
class Refusal:
    """A limit the document goes over."""

    limit: str  # a field of DocumentLimits, or "fragment_cycle"
    message: str


@dataclass
class Measure:
    """What measuring a document found, and how many nodes it visited."""

    refusals: list[Refusal] = field(default_factory=list)
    visited: int = 0
    variables: int = 0  # variables declared and referenced, each definition walked once


@dataclass
class _Totals:
    """Counts of one definition, its fragments expanded."""

    selections: int = 0
    aliases: int = 0
    depth: int = -1  # level of the deepest field outside introspection; -1: none
    schema_fields: int = 0

    def add(self, other: _Totals, level: int, introspection: bool) -> None:
        """Add a fragment spread ``level`` fields deep."""
        self.selections = min(self.selections + other.selections, _CAP)
        self.aliases = min(self.aliases + other.aliases, _CAP)
        self.schema_fields = min(self.schema_fields + other.schema_fields, _CAP)
        if not introspection and other.depth >= 0:
            self.depth = max(self.depth, level + other.depth)


@dataclass
class _Body:
    """One definition walked on its own: its own counts and the spreads still to add."""

    own: _Totals = field(default_factory=_Totals)
    spreads: list[tuple[str, int, bool]] = field(default_factory=list)  # name, level, intro

    def expand(self, fragments: dict[str, _Totals]) -> _Totals:
        """Return the totals with every spread fragment added (unknown ones add nothing)."""
        totals = _Totals(**vars(self.own))
        for name, level, introspection in self.spreads:
            spread = fragments.get(name)
            if spread is not None:
                totals.add(spread, level, introspection)
        return totals


def measure(document: DocumentNode, limits: DocumentLimits) -> Measure:
    """Measure the document against the limits; list every limit it goes over."""
    run = _Run(limits)
    run.measure(document)
    return Measure(run.refusals, run.visited, run.variables_seen)


def _count(found: int) -> str:
    return f"{found:,}" if found < _CAP else f"over {_CAP:,}"


class _Run:
    """One measurement: the walks, their counts and the limits found exceeded."""

    def __init__(self, limits: DocumentLimits) -> None:
        self.limits = limits
        self.refusals: list[Refusal] = []
        self.visited = 0
        self.variables_seen = 0
        self.most_directives = 0

    def check(self, limit: str, found: int, message: str) -> None:
        allowed: int | None = getattr(self.limits, limit)
        if allowed is not None and found > allowed:
            self.refusals.append(Refusal(limit, f"{message}; at most {allowed:,} allowed."))

    def measure(self, document: DocumentNode) -> None:
        definitions = document.definitions
        operations = [d for d in definitions if isinstance(d, OperationDefinitionNode)]
        fragments = [d for d in definitions if isinstance(d, FragmentDefinitionNode)]
        self.check("operations", len(operations), f"{len(operations):,} operations")
        self.check("fragments", len(fragments), f"{len(fragments):,} fragments")
        if self.refusals:
            return  # not worth walking
        by_name = {f.name.value: f for f in fragments}  # the last one wins, as in graphql-core
        bodies = {id(f): self.walk(f) for f in fragments}
        op_bodies = [self.walk(op) for op in operations]
        self.check(
            "directives",
            self.most_directives,
            f"a node with {self.most_directives} directives",
        )
        for op in operations:
            declared = len(op.variable_definitions or ())
            self.variables_seen += declared
            name = op.name.value if op.name else "(anonymous)"
            self.check("variables", declared, f"operation {name} declares {declared} variables")
        order = self.order(by_name, bodies)
        if order is None:
            return
        expanded: dict[str, _Totals] = {}
        for name in order:
            expanded[name] = bodies[id(by_name[name])].expand(expanded)
        spread = {s for body in (*bodies.values(), *op_bodies) for s, _, _ in body.spreads}
        loose = [
            f for f in fragments if f.name.value not in spread or by_name[f.name.value] is not f
        ]
        self.check_totals(
            [body.expand(expanded) for body in op_bodies],
            [bodies[id(f)].expand(expanded) for f in loose],
        )
        if not self.refusals and self.limits.selections is not None:
            self.check_repeats([*operations, *loose], by_name)

    def walk(self, definition: Definition) -> _Body:
        """Walk a definition's own selections (not into its spreads)."""
        body = _Body()
        own = body.own
        own.selections += self.directives(definition.directives)
        if isinstance(definition, OperationDefinitionNode):
            for variable in definition.variable_definitions or ():
                own.selections += self.directives(variable.directives)
        stack: list[tuple[SelectionSetNode, int, bool]] = [(definition.selection_set, 0, False)]
        while stack:
            selection_set, level, introspection = stack.pop()
            for selection in selection_set.selections:
                self.visited += 1
                own.selections += 1 + self.directives(selection.directives)
                if isinstance(selection, FieldNode):
                    name = selection.name.value
                    inner = introspection or name.startswith("__")
                    own.aliases += selection.alias is not None
                    own.schema_fields += name == "__schema"
                    own.selections += self.variables(selection.arguments)
                    if not inner:
                        own.depth = max(own.depth, level)
                    if selection.selection_set:
                        stack.append((selection.selection_set, level + 1, inner))
                elif isinstance(selection, InlineFragmentNode):
                    stack.append((selection.selection_set, level, introspection))
                elif isinstance(selection, FragmentSpreadNode):
                    body.spreads.append((selection.name.value, level, introspection))
        return body

    def directives(self, directives: Sequence[DirectiveNode] | None) -> int:
        """Note how many directives a node has; return the variables their arguments use."""
        if not directives:
            return 0
        self.most_directives = max(self.most_directives, len(directives))
        return sum(self.variables(d.arguments) for d in directives)

    def variables(self, arguments: Iterable[ArgumentNode] | None) -> int:
        """Return how many variable references the argument values hold."""
        found = 0
        stack: list[ValueNode] = [a.value for a in arguments or ()]
        while stack:
            value = stack.pop()
            self.visited += 1
            if isinstance(value, VariableNode):
                found += 1
                self.variables_seen += 1
            elif isinstance(value, ListValueNode):
                stack.extend(value.values)
            elif isinstance(value, ObjectValueNode):
                stack.extend(f.value for f in value.fields)
        return found

    def order(
        self, by_name: dict[str, FragmentDefinitionNode], bodies: dict[int, _Body]
    ) -> list[str] | None:
        """Return the fragment names, each after those it spreads; None on a cycle."""

        def spreads(name: str) -> list[str]:
            return [s for s, _, _ in bodies[id(by_name[name])].spreads if s in by_name]

        done: set[str] = set()
        ordered: list[str] = []
        for root in by_name:
            if root in done:
                continue
            path = [(root, iter(spreads(root)))]
            on_path = {root}
            while path:
                name, pending = path[-1]
                following = next(pending, None)
                self.visited += 1
                if following is None:
                    path.pop()
                    on_path.discard(name)
                    done.add(name)
                    ordered.append(name)
                elif following in on_path:
                    self.refusals.append(
                        Refusal(
                            "fragment_cycle",
                            f"Fragment {following} spreads itself, so its expansion never ends.",
                        )
                    )
                    return None
                elif following not in done:
                    path.append((following, iter(spreads(following))))
                    on_path.add(following)
        return ordered

    def check_totals(self, operations: list[_Totals], loose: list[_Totals]) -> None:
        """Check what adds up over the document and what holds per operation."""
        every = [*operations, *loose]
        selections = min(sum(t.selections for t in every), _CAP)
        aliases = min(sum(t.aliases for t in every), _CAP)
        self.check(
            "selections", selections, f"{_count(selections)} selections once fragments are expanded"
        )
        self.check("aliases", aliases, f"{_count(aliases)} aliases once fragments are expanded")
        deepest = max((max(t.depth, 0) for t in operations), default=0)
        self.check("depth", deepest, f"fields {_count(deepest)} levels deep")
        schema = max((t.schema_fields for t in operations), default=0)
        self.check("schema_fields", schema, f"__schema selected {_count(schema)} times")

    def check_repeats(
        self, roots: list[Definition], by_name: dict[str, FragmentDefinitionNode]
    ) -> None:
        """Count each field at each place of the result, fragments expanded."""
        limit = self.limits.field_repeats
        if limit is None:
            return
        for root in roots:
            counts: Counter[tuple[str, ...]] = Counter()
            stack: list[tuple[SelectionSetNode, tuple[str, ...]]] = [(root.selection_set, ())]
            while stack:
                selection_set, path = stack.pop()
                for selection in selection_set.selections:
                    self.visited += 1
                    if isinstance(selection, FieldNode):
                        key = (*path, (selection.alias or selection.name).value)
                        counts[key] += 1
                        if selection.selection_set:
                            stack.append((selection.selection_set, key))
                    elif isinstance(selection, InlineFragmentNode):
                        stack.append((selection.selection_set, path))
                    elif isinstance(selection, FragmentSpreadNode):
                        fragment = by_name.get(selection.name.value)
                        if fragment is not None:
                            stack.append((fragment.selection_set, path))
            if counts:
                key, found = counts.most_common(1)[0]
                self.check("field_repeats", found, f"{'.'.join(key)} selected {found:,} times")
                if self.refusals:
                    return
