"""Where the API server's handlers reach the `Table` printers (`as=Table`).

The columns and cells live in `api.tables`, because kubectl prints the very same rows when a
server answers a plain list; this module only names them for `apiserver.handlers`.
"""

from __future__ import annotations

from api.tables import partial_metadata, table_columns, to_table

__all__ = ["partial_metadata", "table_columns", "to_table"]
