"""Custom resources: what a CustomResourceDefinition serves (`model`), how its objects are checked
(`objects`), the CRD's own validation (`validation`), Table columns (`columns`), the set served
now by this API server (`served`) and the controller that gives CRDs their status and cleans up
their objects on deletion (`controller`)."""
