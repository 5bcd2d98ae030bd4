"""One show across many machines: the leader sends each frame's wire form, the followers draw
their tiles of it (``link``: the packets and the sockets; ``follower``: the frames a follower
draws). Where each tile sits on the canvas is ``render/wall.py``."""
