"""Component types: the `NodeType` base (`node`), the explicit registry
(`registry`) the built-in `nodes` package registers into, and the catalogue
generated from it (`catalogue`)."""
