#version 330 core
// The backdrop behind moving spheres: keyframe A cross-fading into B, graded, drawn first over
// the cleared frame, so it is written as it would blend over nothing (colour times alpha) with
// blending off: no read of the frame. With WHOLE_TEXELS defined it reads each keyframe by whole
// texels (texelFetch, one texel where a filtered read fetches four), for keyframes of the
// picture's size, whose filtered reads at pixel centres are those texels exactly (a program of
// its own, as a software renderer runs both sides of a branch).
#include "grade.glsl"
in vec2 uv;
uniform sampler2D picture;
uniform sampler2D picture_b;
uniform float towards;         // 0 = only ``picture``, 1 = only ``picture_b``
uniform float opacity;
uniform ivec2 origin;          // the viewport's corner in the target (whole texels only)
out vec4 colour;

vec4 keyframe(sampler2D frame) {
#ifdef WHOLE_TEXELS
    ivec2 at = ivec2(gl_FragCoord.xy) - origin;
    return texelFetch(frame, ivec2(at.x, textureSize(frame, 0).y - 1 - at.y), 0);
#else
    return texture(frame, uv);
#endif
}

void main() {
    vec4 texel = mix(keyframe(picture), keyframe(picture_b), towards);
    float alpha = texel.a * opacity;
    colour = vec4(grade(texel.rgb) * alpha, alpha);
}
