"""Prometheus metrics of an Eterna process (the API or a worker), served at ``/metrics``.

The families (docs/operations.md "Metrics" lists them with their labels):

- ``eterna_orders{type,status}``: orders in the database now, counted at scrape time;
- ``eterna_orders_placed_total{type}``, ``eterna_order_transitions_total{type,status}``,
  ``eterna_order_retries_total{reason}``, ``eterna_order_failures_total{reason}``;
- ``eterna_order_step_duration_seconds{from_status,to_status}`` and
  ``eterna_order_duration_seconds{type,status}`` (placement to a terminal status);
- ``eterna_routes_total{kind}`` and ``eterna_route_venue_uses_total{venue,kind}``;
- ``eterna_queue_lag_messages`` and ``eterna_queue_pending_messages``;
- ``eterna_graphql_operations_total{operation,type}``,
  ``eterna_graphql_operation_duration_seconds{operation,type}``,
  ``eterna_graphql_errors_total{operation,type,code}``, ``eterna_refusals_total{code}`` and
  ``eterna_websocket_connections`` (API);
- ``eterna_pool_connections{pool}`` and ``eterna_pool_connections_in_use{pool}``;
- ``eterna_subscriptions{kind}`` (API), ``eterna_engine_orders_in_flight`` and
  ``eterna_watcher_active`` / ``eterna_watcher_resting_orders`` (where orders execute).

Everything about a transition is observed where it is persisted, not inside the engine: the
order store tells its observer (:class:`Metrics`, as a
:class:`~eterna.application.ports.StoreObserver`) of every placement and every step once it
committed, with the order before the step (its type, status and the time of its last step),
after it, and its event. Gauges are read when Prometheus scrapes.
"""

from eterna.adapters.metrics.families import Metrics, QueueDepth
from eterna.adapters.metrics.operations import PoolUse

__all__ = ["Metrics", "PoolUse", "QueueDepth"]
