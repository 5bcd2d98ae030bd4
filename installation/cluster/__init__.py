"""Long captures and many keyframe runs spread over a Ray cluster (the optional ``cluster`` extra).

Only ``--ray`` reaches this package's drivers (``render``, ``keyframes``), and only they import
ray, so the player and a plain capture never load it. What a task does on its node lives in
``tasks`` as plain functions, so the same code runs in a Ray worker and in a test.
"""
