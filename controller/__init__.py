"""The controller manager: level-triggered loops (replication, endpoints, node lifecycle, node IPAM,
garbage collector, namespace) and the scheduler, all speaking to the API only through `api`'s client."""
