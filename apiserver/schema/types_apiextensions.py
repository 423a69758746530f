"""Field table of apiextensions.k8s.io/v1 CustomResourceDefinition, in the compact notation of
`types.py` (k8s.io/apiextensions-apiserver pkg/apis/apiextensions/v1 as of Kubernetes 1.33).

`openAPIV3Schema` (JSONSchemaProps) is free-form (`object`) here: a schema is recursive and
open-ended, so its own rules (structural schema, known keywords) are checked by
`apiserver.crd.validation` with kube's messages instead of by the strict field walk. A conversion
webhook's clientConfig is the admission webhooks' WebhookClientConfig (kube's two types have the
same fields).
"""

from __future__ import annotations

from apiserver.schema.types import condition

APIEXTENSIONS = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1"

APIEXTENSIONS_TYPES: dict[str, dict[str, str]] = {
    "CustomResourceDefinition": {
        "kind": "string",
        "apiVersion": "string",
        "metadata": "ObjectMeta",
        "spec!": "CustomResourceDefinitionSpec",
        "status": "CustomResourceDefinitionStatus",
    },
    "CustomResourceDefinitionSpec": {
        "group!": "string",
        "names!": "CustomResourceDefinitionNames",
        "scope!": "string",
        "versions!": "[CustomResourceDefinitionVersion]",
        "conversion": "CustomResourceConversion",
        "preserveUnknownFields": "boolean",
    },
    "CustomResourceDefinitionNames": {
        "plural!": "string",
        "singular": "string",
        "shortNames": "[string]",
        "kind!": "string",
        "listKind": "string",
        "categories": "[string]",
    },
    "CustomResourceDefinitionVersion": {
        "name!": "string",
        "served!": "boolean",
        "storage!": "boolean",
        "deprecated": "boolean",
        "deprecationWarning": "string",
        "schema": "CustomResourceValidation",
        "subresources": "CustomResourceSubresources",
        "additionalPrinterColumns": "[CustomResourceColumnDefinition]",
        "selectableFields": "[SelectableField]",
    },
    "CustomResourceValidation": {"openAPIV3Schema": "object"},
    "CustomResourceSubresources": {"status": "object", "scale": "CustomResourceSubresourceScale"},
    "CustomResourceSubresourceScale": {
        "specReplicasPath!": "string",
        "statusReplicasPath!": "string",
        "labelSelectorPath": "string",
    },
    "CustomResourceColumnDefinition": {
        "name!": "string",
        "type!": "string",
        "format": "string",
        "description": "string",
        "priority": "integer",
        "jsonPath!": "string",
    },
    "SelectableField": {"jsonPath!": "string"},
    "CustomResourceConversion": {"strategy!": "string", "webhook": "WebhookConversion"},
    "WebhookConversion": {"clientConfig": "WebhookClientConfig", "conversionReviewVersions!": "[string]"},
    "CustomResourceDefinitionStatus": {
        "conditions": "[CustomResourceDefinitionCondition]@type",
        "acceptedNames": "CustomResourceDefinitionNames",
        "storedVersions": "[string]",
    },
    "CustomResourceDefinitionCondition": condition(),
}

APIEXTENSIONS_KINDS: dict[str, str] = {"CustomResourceDefinition": "apiextensions.k8s.io/v1"}
APIEXTENSIONS_LISTED_KINDS = ("CustomResourceDefinition",)
