"""System-call handlers, one module per family; `table` maps numbers to them."""
