#version 330 core
// A full-viewport quad for the post passes, which read textures drawn by GL (row 0 at the
// bottom), so uv is not flipped as it is for keyframes (image.vert).
out vec2 uv;
void main() {
    vec2 corner = vec2(float(gl_VertexID & 1), float((gl_VertexID >> 1) & 1));
    uv = corner;
    gl_Position = vec4(corner * 2.0 - 1.0, 0.0, 1.0);
}
