#version 330 core
// A full-resolution keyframe (or an overlay) drawn with an opacity; ``towards`` cross-fades it
// into a second picture (the backdrop behind moving spheres is keyframe A becoming B).
#include "grade.glsl"
in vec2 uv;
uniform sampler2D picture;
uniform sampler2D picture_b;
uniform float towards;         // 0 = only ``picture``, 1 = only ``picture_b``
uniform float opacity;
uniform bool graded;
out vec4 colour;
void main() {
    vec4 texel = texture(picture, uv);
    if (towards > 0.0) texel = mix(texel, texture(picture_b, uv), towards);
    vec3 rgb = graded ? grade(texel.rgb) : texel.rgb;
    colour = vec4(rgb, texel.a * opacity);
}
