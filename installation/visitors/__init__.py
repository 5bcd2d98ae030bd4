"""Visitors reinterpret the picture: wishes from a public page become keyframe sequences the show
glides into.

``page/`` is what a phone loads; ``server.py`` serves it in a process of its own on its own port
and keeps the ``desk`` (the queue and its limits), where ``photos`` decodes uploads and the
``studio`` makes each wish's sequence in a worker process. ``show.py`` is the show's side: it
starts that process, tells it what is on screen and switches to a sequence when it is ready.
"""
