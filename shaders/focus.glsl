// Depth of field (included by focus.frag and compose.frag): each pixel is blurred over a disc
// whose radius grows with its sphere's distance from the picture plane (depth 0.5 in the window;
// see place.glsl), so spheres that wander towards the camera or away from it go soft while the
// picture plane stays sharp. Pixels no sphere covers (depth 1) stay sharp. 24 taps on a
// golden-angle spiral: tap i at sqrt((i + 0.5) / 24) of the radius, at i golden angles (2.39996323
// rad). The taps are a table (tests/render/test_post.py checks it against that formula), so a pixel
// does no square root, sine or cosine.
uniform sampler2D picture;
uniform sampler2D depth;
uniform vec2 texel;            // 1 / size in pixels
uniform float strength;        // the defocus parameter (0: no blur)
uniform float reach;           // blur radius in pixels per picture half-height of distance
uniform int taps;              // TAPS (never more), as a uniform: see focused()

const int TAPS = 24;
const vec2 SPIRAL[TAPS] = vec2[](
    vec2(0.144337565, 0.0), vec2(-0.184342206, 0.168872595), vec2(0.0282164756, -0.321512818),
    vec2(0.232351571, 0.303061157), vec2(-0.426393479, -0.0754228458), vec2(0.403917044, -0.256939083),
    vec2(-0.135101855, 0.502574205), vec2(-0.257655293, -0.496098518), vec2(0.559008062, 0.204148412),
    vec2(-0.581554592, 0.240057647), vec2(0.280347526, -0.599087), vec2(0.207170054, 0.660490155),
    vec2(-0.624413133, -0.361858457), vec2(0.732506514, -0.161040947), vec2(-0.447036415, 0.635865629),
    vec2(-0.103277281, -0.796973765), vec2(0.634014189, 0.534346342), vec2(-0.853183329, 0.0352829061),
    vec2(0.622331083, -0.619303882), vec2(-0.0416355245, 0.900425732), vec2(-0.592151225, -0.709593952),
    vec2(0.938032091, 0.126210243), vec2(-0.794792414, 0.552996516), vec2(0.217182726, -0.965400636));
const float CAMERA_DEPTH = 12.0;   // 4 * CAMERA of place.glsl: window depth per half-height

// The blur radius at a pixel, read by whole pixels: a depth read between pixels would mix a
// sphere's depth with the empty background's 1.0, and a tile (whose uv differ from the whole
// canvas's) would then weigh some taps otherwise than the whole canvas does.
float blur_radius(ivec2 pixel) {
    float d = texelFetch(depth, clamp(pixel, ivec2(0), textureSize(depth, 0) - 1), 0).r;
    return d >= 1.0 ? 0.0 : min(strength * reach * abs(d - 0.5) * CAMERA_DEPTH, 24.0);
}

// The picture at pixel ``here`` (uv its centre), blurred by its depth.
vec4 focused(ivec2 here, vec2 uv) {
    vec4 sharp = texelFetch(picture, here, 0);
    float radius = blur_radius(here);
    if (radius < 0.5) return sharp;
    vec3 sum = vec3(0.0);
    float weight = 0.0;
    // A loop the compiler cannot unroll (its end is a uniform): a software renderer shades a
    // group of pixels together and leaves a loop once none of them needs another tap, so a group
    // of sharp pixels skips it; an unrolled loop would be run through by every group.
    for (int i = 0; i < taps; ++i) {
        vec2 offset = radius * SPIRAL[i];
        // a sharp neighbour in front of the plane does not smear into a blurred one behind it
        float w = clamp(blur_radius(here + ivec2(floor(offset + 0.5))) / radius, 0.2, 1.0);
        sum += texture(picture, uv + offset * texel).rgb * w;
        weight += w;
    }
    return vec4(sum / weight, sharp.a);
}
