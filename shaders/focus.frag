#version 330 core
// Depth of field on its own pass (focus.glsl), for when the glow must read the focused picture;
// without glow compose.frag does it in its own pass.
#include "focus.glsl"
in vec2 uv;
out vec4 colour;

void main() {
    colour = focused(ivec2(gl_FragCoord.xy), uv);
}
