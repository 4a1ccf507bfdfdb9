"""One module per benchmark of ``run_all.py``: ``render(results, output) -> Section`` (its Markdown, its targets and
what it extrapolated); ``machine`` renders the machine section from the machine info every result recorded."""
