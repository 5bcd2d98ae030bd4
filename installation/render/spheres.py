"""The sphere field: one point per grid cell, drawn in one call; positions live in the shader.

The only per-sphere data on the GPU are two cell centres and a number: where the sphere starts
(its own cell in keyframe A, fixed), where it ends (its destination in keyframe B) and how much
its cell changes on the way (which scales its wander), the last two uploaded once per pair of
keyframes. Everything that moves is computed in ``shaders/spheres.vert``.
"""

from __future__ import annotations

import numpy as np
from OpenGL import GL


def cell_centres(grid: tuple[int, int]) -> np.ndarray:
    """The uv centre of every cell, row-major, float32 (count x 2)."""
    columns, rows = grid
    u = (np.arange(columns, dtype=np.float32) + 0.5) / columns
    v = (np.arange(rows, dtype=np.float32) + 0.5) / rows
    return np.stack(np.meshgrid(u, v), axis=-1).reshape(-1, 2)


class SphereField:
    """The vertex array of a grid's spheres."""

    def __init__(self, grid: tuple[int, int]) -> None:
        self.grid = grid
        self._centres = cell_centres(grid)
        self.count = len(self._centres)
        self._vao = GL.glGenVertexArrays(1)
        self._buffers = GL.glGenBuffers(3)
        GL.glBindVertexArray(self._vao)
        unchanged = np.ones(self.count, np.float32)
        for location, data in enumerate((self._centres, self._centres, unchanged)):
            GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self._buffers[location])
            GL.glBufferData(GL.GL_ARRAY_BUFFER, data.nbytes, data, GL.GL_DYNAMIC_DRAW)
            GL.glEnableVertexAttribArray(location)
            GL.glVertexAttribPointer(location, data.size // self.count, GL.GL_FLOAT, GL.GL_FALSE, 0, None)
        GL.glBindVertexArray(0)
        self._destinations_key: object = None

    def set_destinations(self, key: object, destinations: np.ndarray, wander: np.ndarray) -> None:
        """Send each sphere's destination cell (indices into the grid) and its wander scale, once per ``key``."""
        if key == self._destinations_key:
            return
        ends = np.ascontiguousarray(self._centres[destinations])
        for buffer, data in ((self._buffers[1], ends), (self._buffers[2], np.ascontiguousarray(wander, np.float32))):
            GL.glBindBuffer(GL.GL_ARRAY_BUFFER, buffer)
            GL.glBufferSubData(GL.GL_ARRAY_BUFFER, 0, data.nbytes, data)
        self._destinations_key = key

    def forget_destinations(self) -> None:
        """The next ``set_destinations`` uploads whatever its key (a new show starts)."""
        self._destinations_key = None

    def draw(self) -> None:
        GL.glBindVertexArray(self._vao)
        GL.glDrawArrays(GL.GL_POINTS, 0, self.count)

    def delete(self) -> None:
        GL.glDeleteBuffers(3, self._buffers)
        GL.glDeleteVertexArrays(1, [self._vao])
