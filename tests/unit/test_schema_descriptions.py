"""Every part of the schema a client developer reads in generated code has a description."""

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
)

from schema import graphql_schema, schema


def _own_types() -> list[GraphQLNamedType]:
    """Return the schema's own named types (not graphql's introspection or built-in scalars)."""
    builtin = {"String", "Int", "Float", "Boolean", "ID"}
    return [
        named
        for name, named in graphql_schema(schema).type_map.items()
        if not name.startswith("__") and name not in builtin
    ]


def _undescribed(named: GraphQLNamedType) -> list[str]:
    """Name every part of one type that has no description."""
    missing = [] if named.description else [named.name]
    if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
        for field_name, field in named.fields.items():
            if not field.description:
                missing.append(f"{named.name}.{field_name}")
            missing.extend(
                f"{named.name}.{field_name}({arg_name})"
                for arg_name, arg in field.args.items()
                if not arg.description
            )
    elif isinstance(named, GraphQLInputObjectType):
        missing.extend(
            f"{named.name}.{field_name}"
            for field_name, field in named.fields.items()
            if not field.description
        )
    elif isinstance(named, GraphQLEnumType):
        missing.extend(
            f"{named.name}.{value_name}"
            for value_name, value in named.values.items()
            if not value.description
        )
    return missing


def test_every_type_field_argument_and_enum_value_is_described() -> None:
    missing = [part for named in _own_types() for part in _undescribed(named)]
    assert not missing, f"{len(missing)} parts of the schema lack a description: {missing}"


def test_the_walk_sees_every_kind_of_part() -> None:
    # The check above would pass vacuously if the walk missed a kind of type.
    for kind in (GraphQLObjectType, GraphQLInputObjectType, GraphQLEnumType):
        assert any(isinstance(named, kind) for named in _own_types()), kind
