#version 330 core
// The last post pass: the frame, plus the glow (GLOW defined), over the trails (TRAILS defined).
// With FOCUS defined it also blurs the frame by depth (focus.glsl), when no glow needs the
// focused picture first: one full-screen pass less. Each is compiled in or out (render/post.py
// keeps a program per combination), as a software renderer runs both sides of a branch.
// Trails are a feedback buffer: the previous output, dimmed by ``kept``, shows wherever it is
// brighter than the new frame, so moving spheres leave fading streaks. The output becomes the
// next frame's previous output, so the trails are a function of the frames drawn since the first.
// The dimming works on the buffer's 255 levels, rounded, and takes at least one level a frame, so
// every trace is gone after 255 frames (render/post.py's TRAILS_MEMORY), which is what lets a
// range start with one run's trails. The frame and the previous output are the target's size and
// read by whole pixels: texelFetch, one texel, where a filtered read fetches four.
#ifdef FOCUS
#include "focus.glsl"
#else
uniform sampler2D picture;
#endif
in vec2 uv;
uniform sampler2D bloom;
uniform sampler2D previous;
uniform float glow;            // the bloom's strength
uniform vec2 bloom_scale;      // the bloom texture's span over the frame's (post.py's _bloom_scale)
uniform float kept;            // share of the previous output kept this frame
out vec4 colour;

const float GLOW_GAIN = 3.0;   // the blur spreads a bright sphere's light thin; this brings it back

void main() {
    ivec2 here = ivec2(gl_FragCoord.xy);
#ifdef FOCUS
    vec4 drawn = focused(here, uv);
#else
    vec4 drawn = texelFetch(picture, here, 0);
#endif
    vec3 rgb = drawn.rgb;
#ifdef GLOW
    rgb += glow * GLOW_GAIN * texture(bloom, uv / bloom_scale).rgb;
#endif
#ifdef TRAILS
    vec3 level = floor(texelFetch(previous, here, 0).rgb * 255.0 + 0.5);
    rgb = max(rgb, max(min(floor(level * kept + 0.5), level - 1.0), 0.0) / 255.0);
#endif
    rgb = min(rgb, 1.0);
    colour = vec4(rgb, max(drawn.a, max(rgb.r, max(rgb.g, rgb.b))));  // glow and trails are seen too
}
