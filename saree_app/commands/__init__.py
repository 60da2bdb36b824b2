"""The subcommands of `saree`, one module per area; each exposes register(subparsers)."""
