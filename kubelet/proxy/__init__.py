"""The service proxy: services + endpoints -> one atomic nftables transaction per change."""
