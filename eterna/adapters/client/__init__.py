"""A client of Eterna's public GraphQL API, for the trading commands of the ``eterna`` CLI."""
