"""Tag every log record of an order's task with the order's id.

taskiq runs each message in a task of its own, starting with the middlewares'
``pre_execute``: the id set there holds for the engine's records and for taskiq's own
("Executing task ...", "Exception found while executing function") until that task ends.
"""

from __future__ import annotations

from taskiq import TaskiqMessage, TaskiqMiddleware

from eterna.core.logs import current_order
from tasks.broker import EXECUTE_ORDER


class OrderLogContext(TaskiqMiddleware):
    """Set :data:`eterna.core.logs.current_order` while an execute-order task runs."""

    def pre_execute(self, message: TaskiqMessage) -> TaskiqMessage:
        """Take the order id from the message's first argument."""
        if message.task_name == EXECUTE_ORDER and message.args:
            current_order.set(str(message.args[0]))
        return message
