"""Building blocks that know nothing of trading.

Tasks kept alive in the background, calls coalesced into batches, per-user lanes served in
turn, log records that name their order.
"""
