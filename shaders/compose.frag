#version 330 core
// The last post pass: the frame, plus the glow, over the trails. Trails are a feedback buffer:
// the previous output, dimmed by ``trails`` each frame, shows wherever it is brighter than the
// new frame, so moving spheres leave fading streaks. The output becomes the next frame's
// previous output, so the trails are a function of the frames drawn since the first.
in vec2 uv;
uniform sampler2D picture;
uniform sampler2D bloom;
uniform sampler2D previous;
uniform float glow;            // 0 = no bloom added
uniform float trails;          // share of the previous output kept (0 = none)
out vec4 colour;

const float GLOW_GAIN = 3.0;   // the blur spreads a bright sphere's light thin; this brings it back

void main() {
    vec3 rgb = texture(picture, uv).rgb;
    if (glow > 0.0) rgb += glow * GLOW_GAIN * texture(bloom, uv).rgb;
    if (trails > 0.0) rgb = max(rgb, texture(previous, uv).rgb * trails);
    colour = vec4(min(rgb, 1.0), 1.0);
}
