"""The use cases the app and the CLI share: what they do with a source, a view and a saved run, written once.

Layers (enforced by import-linter, the contracts in pyproject.toml; docs/architecture.md): ui and cli over usecases, over config, over engines,
statistics, drawing and flows, over ingest, over readers and stores, over the contract and small leaf modules.
"""
