#version 330 core
// A full-resolution keyframe (or an overlay) drawn with an opacity (the backdrop behind moving
// spheres, keyframe A becoming B, is backdrop.glsl).
#include "grade.glsl"
in vec2 uv;
uniform sampler2D picture;
uniform float opacity;
uniform bool graded;
out vec4 colour;
void main() {
    vec4 texel = texture(picture, uv);
    vec3 rgb = graded ? grade(texel.rgb) : texel.rgb;
    colour = vec4(rgb, texel.a * opacity);
}
