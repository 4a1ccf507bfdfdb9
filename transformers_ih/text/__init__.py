"""The text layer: from a task's text arguments to the engine's scalar function and back (see ARCHITECTURE.md)."""
