"""Order events to subscribers: local hub, Redis stream transport, gap-free streams."""
