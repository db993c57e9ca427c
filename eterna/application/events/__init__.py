"""Order events to subscribers.

The in-process hub, gap-free streams per subscription, and the sweep that finds events whose
publish was lost.
"""
