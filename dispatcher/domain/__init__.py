"""The domain: plain Python, no I/O. Time is always an argument."""
