#version 330 core
// Packs the drawn frame into the rows an output reads back, where a flipped blit cannot: top row
// first (GL keeps the bottom row first, so the flip is done here and not on the CPU), scaled to
// the output's size as RGBA (alpha: what was drawn, 0 where nothing was, for keying), or as UYVY
// 4:2:2 (what NDI and video mixers take): one texel of the output per two pixels of the frame,
// bytes U Y0 V Y1, BT.709 with video levels (Y 16..235, U and V 16..240), the colour of a pair
// the mean of its two pixels'.
//
// Variants (defines, as llvmpipe runs both sides of a branch): UYVY, or RGBA without it; SCALED
// where the frame's size is not the output's (filtered samples), else the frame's texels are
// fetched as they are, which llvmpipe does at half the cost of a filtered sample.
uniform sampler2D frame;
uniform vec2 size;             // the packed picture's size in pixels (the frame is scaled to it)
out vec4 colour;

const vec3 LUMA = vec3(0.2126, 0.7152, 0.0722);

// Pixel (x, y) of the packed picture, row 0 at the top.
vec4 pixel(int x, int y) {
#ifdef SCALED
    // the frame sampled at that pixel's centre: filtered between its texels
    return texture(frame, vec2((float(x) + 0.5) / size.x, 1.0 - (float(y) + 0.5) / size.y));
#else
    return texelFetch(frame, ivec2(x, int(size.y) - 1 - y), 0);
#endif
}

void main() {
    ivec2 here = ivec2(gl_FragCoord.xy);
#ifndef UYVY
    colour = pixel(here.x, here.y);
#else
    vec3 left = pixel(2 * here.x, here.y).rgb;
    vec3 right = pixel(2 * here.x + 1, here.y).rgb;
    vec3 mean = 0.5 * (left + right);
    float luma = dot(mean, LUMA);
    float u = (mean.b - luma) / 1.8556;
    float v = (mean.r - luma) / 1.5748;
    colour = vec4(16.0 + 224.0 * (u + 0.5), 16.0 + 219.0 * dot(left, LUMA), 16.0 + 224.0 * (v + 0.5),
                  16.0 + 219.0 * dot(right, LUMA)) / 255.0;
#endif
}
