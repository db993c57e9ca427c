"""The local chain: the mainnet builds of the DEX programs running in LiteSVM, in process."""
