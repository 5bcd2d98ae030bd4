#version 330 core
// The last post pass: the frame, plus the glow, over the trails. Trails are a feedback buffer:
// the previous output, dimmed by ``kept``, shows wherever it is brighter than the new frame, so
// moving spheres leave fading streaks. The output becomes the next frame's previous output, so
// the trails are a function of the frames drawn since the first. The dimming works on the
// buffer's 255 levels, rounded, and takes at least one level a frame, so every trace is gone after 255
// frames (render/post.py's TRAILS_MEMORY), which is what lets a range start with one run's trails.
in vec2 uv;
uniform sampler2D picture;
uniform sampler2D bloom;
uniform sampler2D previous;
uniform float glow;            // 0 = no bloom added
uniform vec2 bloom_scale;      // the bloom texture's span over the frame's (post.py's _bloom_scale)
uniform float kept;            // share of the previous output kept this frame (0 = no trails)
out vec4 colour;

const float GLOW_GAIN = 3.0;   // the blur spreads a bright sphere's light thin; this brings it back

void main() {
    vec4 drawn = texture(picture, uv);
    vec3 rgb = drawn.rgb;
    if (glow > 0.0) rgb += glow * GLOW_GAIN * texture(bloom, uv / bloom_scale).rgb;
    if (kept > 0.0) {
        vec3 level = floor(texture(previous, uv).rgb * 255.0 + 0.5);
        rgb = max(rgb, max(min(floor(level * kept + 0.5), level - 1.0), 0.0) / 255.0);
    }
    rgb = min(rgb, 1.0);
    colour = vec4(rgb, max(drawn.a, max(rgb.r, max(rgb.g, rgb.b))));  // glow and trails are seen too
}
