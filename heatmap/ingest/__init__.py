"""Data in: export objects -> canonical rows -> parts on disk + the source's catalog (docs/contract.md, docs/engines.md).

`executions` decides which execution counts for each GA date, `normalize` turns a reader's strings into
canonical rows within the contract's bounds, `parts` stores each object's rows as one Parquet file, `catalog`
sums the parts' summaries, and `build` runs it all object by object.
"""
